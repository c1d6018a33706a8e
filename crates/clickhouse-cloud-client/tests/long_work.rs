//! Waiting for long work against the emulator's stateful services over
//! loopback HTTP, its clock sped up so minutes of provisioning take a
//! fraction of a second.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clickhouse_cloud_client::transport::StatusCode;
use clickhouse_cloud_client::types::{IpAccessListEntry, ServicePostRequest, ServiceState};
use clickhouse_cloud_client::{Client, Error, Services};
use clickhouse_cloud_emulator::{Emulator, Fault, FaultPlan, RunningEmulator};
use uuid::Uuid;

/// Provisioning (120 s at speed 1) takes 0.2 s; stopping (60 s) 0.1 s.
const FAST: f64 = 600.0;
/// Polls this often, so waits end soon after the state changes.
const POLL: Duration = Duration::from_millis(20);

async fn emulator(speed: f64) -> RunningEmulator {
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

fn new_service(name: &str) -> ServicePostRequest {
    ServicePostRequest::new(
        name,
        "aws".into(),
        "us-east-1".into(),
        vec![IpAccessListEntry::new("0.0.0.0/0")],
    )
}

/// Creates a service and returns its ID, without waiting.
async fn create(services: &Services, name: &str) -> Uuid {
    let created = services.instance_create(new_service(name)).await.unwrap();
    assert!(
        created.password.is_some(),
        "the default user's password, once"
    );
    created.service.as_ref().and_then(|s| s.id).unwrap()
}

/// Creates a service and waits until it runs; returns its ID.
async fn create_running(services: &Services, name: &str) -> Uuid {
    let id = create(services, name).await;
    services
        .wait_until(id, ServiceState::Running)
        .interval(POLL)
        .await
        .unwrap();
    id
}

/// The states a wait reported, in order.
type States = Arc<Mutex<Vec<Option<String>>>>;

/// Records the states a wait reports.
fn recorder() -> (States, impl Fn(&clickhouse_cloud_client::Progress)) {
    let states = States::default();
    let log = Arc::clone(&states);
    (states, move |p: &clickhouse_cloud_client::Progress| {
        log.lock().unwrap().push(p.state.clone())
    })
}

#[tokio::test]
async fn create_and_wait_until_running_then_stop_and_start() {
    let emulator = emulator(FAST).await;
    let services = client(&emulator).services(emulator.organization_id());
    let id = create(&services, "warehouse").await;
    let (states, report) = recorder();
    let running = services
        .wait_until(id, ServiceState::Running)
        .interval(POLL)
        .on_progress(report)
        .await
        .unwrap();
    assert_eq!(running.state, Some(ServiceState::Running));
    assert_eq!(running.id, Some(id));
    let states = states.lock().unwrap().clone();
    assert_eq!(states.first().unwrap().as_deref(), Some("provisioning"));
    assert_eq!(states.last().unwrap().as_deref(), Some("running"));

    services.stop(id).await.unwrap();
    let stopped = services
        .wait_until(id, ServiceState::Stopped)
        .interval(POLL)
        .await
        .unwrap();
    assert_eq!(stopped.state, Some(ServiceState::Stopped));

    services.start(id).await.unwrap();
    let running = services
        .wait_until(id, ServiceState::Running)
        .interval(POLL)
        .await
        .unwrap();
    assert_eq!(running.state, Some(ServiceState::Running));
}

#[tokio::test]
async fn create_and_wait_in_one_call() {
    let emulator = emulator(FAST).await;
    let services = client(&emulator).services(emulator.organization_id());
    let (created, running) = services
        .create_and_wait(new_service("one-call"), Some(Duration::from_secs(30)))
        .await
        .unwrap();
    // With the default pace (a first look after 5 s) the sped-up service
    // may already have gone idle: it ran, which is what was waited for.
    assert!(
        matches!(
            running.state,
            Some(ServiceState::Running | ServiceState::Idle)
        ),
        "{:?}",
        running.state
    );
    assert_eq!(created.service.as_ref().and_then(|s| s.id), running.id);
}

#[tokio::test]
async fn delete_and_wait_from_a_running_service_and_again() {
    let emulator = emulator(FAST).await;
    let services = client(&emulator).services(emulator.organization_id());
    let id = create_running(&services, "short-lived").await;

    let (states, report) = recorder();
    services
        .delete_and_wait(id)
        .interval(POLL)
        .budget(Duration::from_secs(30))
        .on_progress(report)
        .await
        .unwrap();
    // It was stopped first, then deleted, then gone.
    let states = states.lock().unwrap().clone();
    assert_eq!(states.first().unwrap().as_deref(), Some("running"));
    assert!(
        states.iter().any(|s| s.as_deref() == Some("stopped")),
        "{states:?}"
    );
    assert_eq!(states.last().unwrap(), &None, "{states:?}");
    let error = services.instance_get(id).await.unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::NOT_FOUND));

    // Run again after it is gone (an interrupted run resumed): nothing to do.
    services.delete_and_wait(id).interval(POLL).await.unwrap();
}

#[tokio::test]
async fn stop_and_delete_ends_once_the_delete_is_accepted() {
    // Slow enough that termination (30 s at speed 1) outlasts the test's
    // look at the service; stopping (60 s) takes 0.6 s.
    let emulator = emulator(100.0).await;
    let services = client(&emulator).services(emulator.organization_id());
    let id = create_running(&services, "stop-then-delete").await;

    let (states, report) = recorder();
    services
        .stop_and_delete(id)
        .interval(POLL)
        .budget(Duration::from_secs(30))
        .on_progress(report)
        .await
        .unwrap();
    let states = states.lock().unwrap().clone();
    assert_eq!(states.first().unwrap().as_deref(), Some("running"));
    assert!(
        states.iter().any(|s| s.as_deref() == Some("stopped")),
        "{states:?}"
    );
    // Accepted, not yet gone (terminating lasts 0.3 s here): the wait did
    // not sit through the termination.
    let seen = services.instance_get(id).await.unwrap().into_result();
    assert_eq!(seen.state, Some(ServiceState::Terminating));
    services
        .wait_until_gone(id)
        .interval(POLL)
        .budget(Duration::from_secs(30))
        .await
        .unwrap();
}

#[tokio::test]
async fn delete_and_wait_retries_a_409_while_the_service_moves() {
    let emulator = emulator(FAST).await;
    let services = client(&emulator).services(emulator.organization_id());
    let id = create_running(&services, "conflicted").await;
    services.stop(id).await.unwrap();
    // The service refuses the first DELETE as if it were still moving.
    emulator.set_faults(FaultPlan::new().on_operation("instanceDelete", 1, Fault::Status(409)));
    services
        .delete_and_wait(id)
        .interval(POLL)
        .budget(Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(emulator.faults_injected(), 1);
    let error = services.instance_get(id).await.unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::NOT_FOUND));
}

#[tokio::test]
async fn a_budget_that_runs_out_names_the_last_state() {
    // Real time: provisioning takes two minutes, the budget a third of a
    // second.
    let emulator = emulator(1.0).await;
    let services = client(&emulator).services(emulator.organization_id());
    let id = create(&services, "slow").await;
    let budget = Duration::from_millis(300);
    let started = Instant::now();
    let error = services
        .wait_until(id, ServiceState::Running)
        .interval(POLL)
        .budget(budget)
        .await
        .unwrap_err();
    assert!(started.elapsed() >= budget);
    assert!(started.elapsed() < Duration::from_secs(5));
    match &error {
        Error::WaitTimedOut {
            resource,
            id: named,
            target,
            last_state,
            budget: given,
        } => {
            assert_eq!(*resource, "service");
            assert_eq!(named, &id.to_string());
            assert_eq!(target, "running");
            assert_eq!(last_state.as_deref(), Some("provisioning"));
            assert_eq!(*given, budget);
        }
        other => panic!("{other:?}"),
    }
    let text = error.to_string();
    assert!(
        text.contains("provisioning") && text.contains("300ms"),
        "{text}"
    );
}

#[tokio::test]
async fn a_failure_state_ends_the_wait_at_once() {
    let emulator = emulator(1.0).await;
    let services = client(&emulator).services(emulator.organization_id());
    let id = create(&services, "doomed").await;
    assert!(emulator.force_service_state(id, ServiceState::Failed));
    let started = Instant::now();
    let error = services
        .wait_until(id, ServiceState::Running)
        .interval(POLL)
        .budget(Duration::from_secs(600))
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    match &error {
        Error::WaitFailed { state, target, .. } => {
            assert_eq!(state, "failed");
            assert_eq!(target, "running");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_idle_service_is_woken_on_request_and_the_call_sent_again() {
    let emulator = emulator(FAST).await;
    let client = client(&emulator);
    let services = client.services(emulator.organization_id());
    let id = create_running(&services, "sleepy").await;
    assert!(emulator.force_service_state(id, ServiceState::Idle));

    // Refused while idle, with what the service says about it.
    let error = services
        .service_clickhouse_settings_list_get(id)
        .await
        .unwrap_err();
    let api = error.api().expect("an API error");
    assert_eq!(api.status.as_u16(), 424);
    assert!(api.is_service_idle(), "{api:?}");
    assert_eq!(api.service_state(), Some("idle"));

    // Opted in: woken, waited for, sent again.
    let waking = client.waking_idle_services();
    waking
        .services(emulator.organization_id())
        .service_clickhouse_settings_list_get(id)
        .await
        .unwrap();
    let service = services.instance_get(id).await.unwrap();
    assert_eq!(service.state, Some(ServiceState::Running));
}
