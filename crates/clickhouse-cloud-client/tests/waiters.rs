//! The waits for Postgres services, ClickPipes, reverse private endpoints
//! and UDF attachments, over HTTP against resources created in the
//! emulator's store, in the states the spec's examples give them (a pipe
//! `Running`, an endpoint `Ready`, an attachment `deployed`, a Postgres
//! service forever `creating`).

use std::time::Duration;

use clickhouse_cloud_client::types::{
    ClickPipeState, IpAccessListEntry, PgStateProperty, ReversePrivateEndpointStatus,
    ServicePostRequest, ServiceState, UdfAttachmentStatus,
};
use clickhouse_cloud_client::{Client, Error};
use clickhouse_cloud_emulator::{Emulator, RunningEmulator};
use uuid::Uuid;

async fn emulator() -> RunningEmulator {
    Emulator::builder()
        .rate_limit(None)
        .speed(600.0)
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

/// A pipe, a reverse private endpoint and a function attached to
/// `service`, created through the API.
async fn pipe_endpoint_and_function(client: &Client, org: Uuid, service: Uuid) -> (Uuid, Uuid) {
    let pipes = client.clickpipes(org);
    let pipe = pipes
        .click_pipe_create(service, example_body("clickPipeCreate"))
        .await
        .unwrap()
        .into_result();
    let endpoint = pipes
        .click_pipe_reverse_private_endpoint_create(
            service,
            example_body("clickPipeReversePrivateEndpointCreate"),
        )
        .await
        .unwrap()
        .into_result();
    let udfs = client.udfs(org);
    udfs.udf_create(example_body("udfCreate")).await.unwrap();
    udfs.udf_version_create("example", example_body("udfVersionCreate"))
        .await
        .unwrap();
    udfs.udf_attach("example", service, example_body("udfAttach"))
        .await
        .unwrap();
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
async fn a_postgres_service_that_stays_creating_times_out_naming_it() {
    let emulator = emulator().await;
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
