//! The waits for Postgres services, ClickPipes, reverse private endpoints
//! and UDF attachments, over HTTP against resources created in the
//! emulator, whose states move on its clock (at 600x: a pipe provisions
//! in 0.1 s, an endpoint in 0.2 s, an attachment in 0.05 s, a Postgres
//! service is created in 0.2 s and restarts in 0.1 s).

use std::time::Duration;

use clickhouse_cloud_client::types::{
    ClickPipeState, ClickPipeStatePatchRequest, ClickPipeStatePatchRequestCommand,
    IpAccessListEntry, PgStateProperty, PostgresServiceSetState, PostgresServiceSetStateCommand,
    ReversePrivateEndpointStatus, ServicePostRequest, ServiceState, UdfAttachmentStatus, UdfStatus,
};
use clickhouse_cloud_client::{Client, Error};
use clickhouse_cloud_emulator::{Emulator, RunningEmulator};
use uuid::Uuid;

async fn emulator() -> RunningEmulator {
    emulator_at(600.0).await
}

async fn emulator_at(speed: f64) -> RunningEmulator {
    Emulator::builder()
        .rate_limit(None)
        .speed(speed)
        .start()
        .await
        .expect("emulator starts")
}

fn client(emulator: &RunningEmulator) -> Client {
    Client::builder()
        .credentials(emulator.bootstrap_credentials().clone())
        .base_url(emulator.base_url())
        .rate_limit(None)
        .build()
        .unwrap()
}

const POLL: Duration = Duration::from_millis(20);

/// The request body of operation `id`'s example cassette, as `T`.
fn example_body<T: serde::de::DeserializeOwned>(id: &str) -> T {
    let path = format!(
        "{}/../../conformance/cassettes/examples/{id}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let cassette: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path).expect("the cassette")).unwrap();
    serde_json::from_value(cassette["request"]["body"].clone()).expect("the body decodes")
}

/// [`example_body`] with `upload` as its `uploadId`.
fn example_body_with<T: serde::de::DeserializeOwned>(id: &str, upload: Uuid) -> T {
    let mut body: serde_json::Value = example_body(id);
    body["uploadId"] = serde_json::Value::String(upload.to_string());
    serde_json::from_value(body).expect("the body decodes")
}

/// A pipe, a reverse private endpoint and a function attached to
/// `service`, created through the API.
async fn pipe_endpoint_and_function(client: &Client, org: Uuid, service: Uuid) -> (Uuid, Uuid) {
    let pipes = client.clickpipes(org);
    let pipe = pipes
        .click_pipe_create(service, example_body("clickPipeCreate"))
        .await
        .unwrap()
        .into_result();
    assert_eq!(pipe.state, Some(ClickPipeState::Provisioning));
    let endpoint = pipes
        .click_pipe_reverse_private_endpoint_create(
            service,
            example_body("clickPipeReversePrivateEndpointCreate"),
        )
        .await
        .unwrap()
        .into_result();
    assert_eq!(
        endpoint.status,
        Some(ReversePrivateEndpointStatus::Provisioning)
    );
    let udfs = client.udfs(org);
    // Each create takes an archive uploaded for it.
    let upload = udfs.upload_archive(&b"PK\x05\x06"[..]).await.unwrap();
    udfs.udf_create(example_body_with("udfCreate", upload))
        .await
        .unwrap();
    let upload = udfs.upload_archive(&b"PK\x05\x06"[..]).await.unwrap();
    udfs.udf_version_create("example", example_body_with("udfVersionCreate", upload))
        .await
        .unwrap();
    // An attach takes a built version.
    let built = udfs
        .wait_until_built("example", 2)
        .interval(POLL)
        .budget(Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(built.status, Some(UdfStatus::Ready));
    let attached = udfs
        .udf_attach("example", service, example_body("udfAttach"))
        .await
        .unwrap()
        .into_result();
    assert_eq!(attached.status, Some(UdfAttachmentStatus::Provisioning));
    let id = |text: Option<String>| text.and_then(|t| Uuid::parse_str(&t).ok()).unwrap();
    (
        pipe.id
            .map(|id| id.to_string())
            .map_or_else(|| panic!("a pipe ID"), |t| id(Some(t))),
        endpoint
            .id
            .map(|id| id.to_string())
            .map_or_else(|| panic!("an endpoint ID"), |t| id(Some(t))),
    )
}

/// A service of the emulator's, running: pipes and attachments need one.
async fn running_service(client: &Client, org: Uuid) -> Uuid {
    let body = ServicePostRequest::new(
        "pipes",
        "aws".into(),
        "us-east-1".into(),
        vec![IpAccessListEntry::new("0.0.0.0/0")],
    );
    let services = client.services(org);
    let created = services.instance_create(body).await.unwrap();
    let id = created.service.as_ref().and_then(|s| s.id).unwrap();
    services
        .wait_until(id, ServiceState::Running)
        .interval(POLL)
        .await
        .unwrap();
    id
}

#[tokio::test]
async fn a_running_pipe_a_ready_endpoint_and_a_deployed_function_end_their_waits() {
    let emulator = emulator().await;
    let client = client(&emulator);
    let org = emulator.organization_id();
    let service = running_service(&client, org).await;
    let (pipe, endpoint) = pipe_endpoint_and_function(&client, org, service).await;

    let running = client
        .clickpipes(org)
        .wait_until(service, pipe, ClickPipeState::Running)
        .interval(POLL)
        .budget(Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(running.state, Some(ClickPipeState::Running));

    let ready = client
        .clickpipes(org)
        .wait_until_endpoint_ready(service, endpoint)
        .interval(POLL)
        .budget(Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(ready.status, Some(ReversePrivateEndpointStatus::Ready));

    let deployed = client
        .udfs(org)
        .wait_until_deployed("example", service)
        .interval(POLL)
        .budget(Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(deployed.status, Some(UdfAttachmentStatus::Deployed));
}

#[tokio::test]
async fn a_postgres_service_is_waited_for_through_creating_and_a_restart() {
    let emulator = emulator().await;
    let client = client(&emulator);
    let postgres = client.postgres(emulator.organization_id());
    let created = postgres
        .postgres_service_create(example_body("postgresServiceCreate"))
        .await
        .unwrap()
        .into_result();
    assert_eq!(created.state, Some(PgStateProperty::Creating));
    let id = created.id.map(|id| id.0).expect("a Postgres service ID");
    let running = postgres
        .wait_until(id, PgStateProperty::Running)
        .interval(POLL)
        .budget(Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(running.state, Some(PgStateProperty::Running));
    let restarting = postgres
        .postgres_service_patch_state(
            id,
            PostgresServiceSetState {
                command: Some(PostgresServiceSetStateCommand::Restart),
            },
        )
        .await
        .unwrap()
        .into_result();
    assert_eq!(restarting.state, Some(PgStateProperty::Restarting));
    let running = postgres
        .wait_until(id, PgStateProperty::Running)
        .interval(POLL)
        .budget(Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(running.state, Some(PgStateProperty::Running));
    postgres.postgres_service_delete(id).await.unwrap();
    postgres
        .wait_until_gone(id)
        .interval(POLL)
        .budget(Duration::from_secs(10))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_postgres_service_still_creating_times_out_naming_it() {
    // At real speed creation takes two minutes: far beyond the budget.
    let emulator = emulator_at(1.0).await;
    let client = client(&emulator);
    let postgres = client.postgres(emulator.organization_id());
    let created = postgres
        .postgres_service_create(example_body("postgresServiceCreate"))
        .await
        .unwrap()
        .into_result();
    let id = created.id.map(|id| id.0).expect("a Postgres service ID");
    let error = postgres
        .wait_until(id, PgStateProperty::Running)
        .interval(POLL)
        .budget(Duration::from_millis(200))
        .await
        .unwrap_err();
    match error {
        Error::WaitTimedOut {
            resource,
            last_state,
            target,
            ..
        } => {
            assert_eq!(resource, "Postgres service");
            assert_eq!(target, "running");
            assert_eq!(last_state.as_deref(), Some("creating"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_pipe_waited_for_in_another_state_waits_the_budget() {
    let emulator = emulator().await;
    let client = client(&emulator);
    let org = emulator.organization_id();
    let service = running_service(&client, org).await;
    let (pipe, _) = pipe_endpoint_and_function(&client, org, service).await;
    let pipes = client.clickpipes(org);
    pipes
        .wait_until(service, pipe, ClickPipeState::Running)
        .interval(POLL)
        .budget(Duration::from_secs(10))
        .await
        .unwrap();
    // Stop and start again, each waited for through its passing state.
    let command = |command| ClickPipeStatePatchRequest {
        command: Some(command),
    };
    let stopping = pipes
        .click_pipe_state_update(
            service,
            pipe,
            command(ClickPipeStatePatchRequestCommand::Stop),
        )
        .await
        .unwrap()
        .into_result();
    assert_eq!(stopping.state, Some(ClickPipeState::Stopping));
    pipes
        .wait_until(service, pipe, ClickPipeState::Stopped)
        .interval(POLL)
        .budget(Duration::from_secs(10))
        .await
        .unwrap();
    let starting = pipes
        .click_pipe_state_update(
            service,
            pipe,
            command(ClickPipeStatePatchRequestCommand::Start),
        )
        .await
        .unwrap()
        .into_result();
    assert_eq!(starting.state, Some(ClickPipeState::Provisioning));
    pipes
        .wait_until(service, pipe, ClickPipeState::Running)
        .interval(POLL)
        .budget(Duration::from_secs(10))
        .await
        .unwrap();
    let error = client
        .clickpipes(org)
        .wait_until(service, pipe, ClickPipeState::Stopped)
        .interval(POLL)
        .budget(Duration::from_millis(200))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::WaitTimedOut { last_state: Some(s), .. } if s == "Running"),
        "{error:?}"
    );

    // A pipe of a service that does not exist: the 404 ends the wait at once.
    let started = std::time::Instant::now();
    let error = client
        .clickpipes(org)
        .wait_until(Uuid::new_v4(), Uuid::new_v4(), ClickPipeState::Running)
        .interval(POLL)
        .budget(Duration::from_secs(60))
        .await
        .unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(404), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
}
