//! Waits and per-operation retries against a small HTTP server on loopback
//! that answers what the test sets: a refusal in the middle of a wait, a
//! state that never changes, a gateway error on a PATCH.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch};
use clickhouse_cloud_client::transport::ExponentialBackoff;
use clickhouse_cloud_client::types::{
    ServicePasswordPatchRequest, ServicePatchRequest, ServiceState,
};
use clickhouse_cloud_client::{Client, Credentials, Error, KeyId, KeySecret};
use serde_json::json;
use uuid::Uuid;

/// What the server answers to `GET` of a service, and how often it was
/// asked.
#[derive(Default)]
struct Script {
    /// Answers in order; the last one repeats.
    answers: Mutex<Vec<(u16, serde_json::Value)>>,
    gets: AtomicUsize,
    patches: AtomicUsize,
}

type Shared = Arc<Script>;

async fn get_service(State(script): State<Shared>) -> Response {
    let n = script.gets.fetch_add(1, Ordering::SeqCst);
    let answers = script.answers.lock().unwrap();
    let (status, body) = answers[n.min(answers.len() - 1)].clone();
    (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response()
}

async fn unavailable(State(script): State<Shared>) -> Response {
    script.patches.fetch_add(1, Ordering::SeqCst);
    (
        StatusCode::SERVICE_UNAVAILABLE,
        axum::Json(json!({"status": 503, "error": "SERVICE_UNAVAILABLE: try again"})),
    )
        .into_response()
}

async fn serve(script: Shared) -> SocketAddr {
    let router = Router::new()
        .route(
            "/v1/organizations/{org}/services/{id}",
            get(get_service).patch(unavailable),
        )
        .route(
            "/v1/organizations/{org}/services/{id}/password",
            patch(unavailable),
        )
        .with_state(script);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

fn client(addr: SocketAddr) -> Client {
    Client::builder()
        .credentials(Credentials::new(
            KeyId::new("local-test").unwrap(),
            KeySecret::new(format!("s-{}", Uuid::new_v4())).unwrap(),
        ))
        .base_url(format!("http://{addr}"))
        .rate_limit(None)
        .retry_policy(ExponentialBackoff {
            max_attempts: 3,
            initial_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(20),
            ..Default::default()
        })
        .build()
        .unwrap()
}

fn service(state: &str) -> (u16, serde_json::Value) {
    (200, json!({"status": 200, "result": {"state": state}}))
}

async fn scripted(answers: Vec<(u16, serde_json::Value)>) -> (Shared, Client) {
    let script = Shared::default();
    *script.answers.lock().unwrap() = answers;
    let addr = serve(Arc::clone(&script)).await;
    (script, client(addr))
}

#[tokio::test]
async fn a_403_while_waiting_ends_the_wait_at_once() {
    let forbidden = (
        403,
        json!({"status": 403, "error": "FORBIDDEN: not for this key", "requestId": "r403"}),
    );
    let (script, client) = scripted(vec![service("provisioning"), forbidden]).await;
    let started = Instant::now();
    let error = client
        .services(Uuid::nil())
        .wait_until(Uuid::nil(), ServiceState::Running)
        .interval(Duration::from_millis(20))
        .budget(Duration::from_secs(60))
        .await
        .unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(403), "{error:?}");
    assert_eq!(error.request_id(), Some("r403"));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(script.gets.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_404_while_waiting_for_a_state_ends_the_wait_at_once() {
    let gone = (
        404,
        json!({"status": 404, "error": "NOT_FOUND: no such service"}),
    );
    let (script, client) = scripted(vec![gone]).await;
    let error = client
        .services(Uuid::nil())
        .wait_until(Uuid::nil(), ServiceState::Stopped)
        .interval(Duration::from_millis(20))
        .budget(Duration::from_secs(60))
        .await
        .unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(404), "{error:?}");
    assert_eq!(script.gets.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_gateway_error_costs_a_poll_not_the_wait() {
    let gateway = (
        503,
        json!({"status": 503, "error": "SERVICE_UNAVAILABLE: busy"}),
    );
    let (script, client) = scripted(vec![
        service("starting"),
        gateway.clone(),
        gateway.clone(),
        gateway,
        service("running"),
    ])
    .await;
    let running = client
        .services(Uuid::nil())
        .wait_until(Uuid::nil(), ServiceState::Running)
        .interval(Duration::from_millis(10))
        .await
        .unwrap();
    assert_eq!(running.state, Some(ServiceState::Running));
    // The client's own retries took the 503s (three attempts per poll).
    assert_eq!(script.gets.load(Ordering::SeqCst), 5);
}

#[tokio::test]
async fn a_state_that_never_comes_times_out_naming_the_last_state_and_budget() {
    let (_, client) = scripted(vec![service("provisioning"), service("starting")]).await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let budget = Duration::from_millis(400);
    let started = Instant::now();
    let error = client
        .services(Uuid::nil())
        .wait_until(Uuid::nil(), ServiceState::Running)
        .interval(Duration::from_millis(20))
        .max_interval(Duration::from_millis(50))
        .budget(budget)
        .on_progress(move |p| {
            log.lock()
                .unwrap()
                .push((p.state.clone(), p.elapsed, p.polls))
        })
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    match &error {
        Error::WaitTimedOut {
            resource,
            target,
            last_state,
            budget: spent,
            ..
        } => {
            assert_eq!(*resource, "service");
            assert_eq!(target, "running");
            assert_eq!(last_state.as_deref(), Some("starting"));
            assert_eq!(*spent, budget);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        error.to_string().contains("last state seen: starting"),
        "{error}"
    );
    assert!(elapsed >= budget, "{elapsed:?}");
    assert!(elapsed < budget + Duration::from_secs(2), "{elapsed:?}");
    let seen = seen.lock().unwrap();
    assert!(seen.len() >= 3, "{seen:?}");
    assert_eq!(seen[0].0.as_deref(), Some("provisioning"));
    assert_eq!(seen.last().unwrap().0.as_deref(), Some("starting"));
    // Polls counted in order, time only going forward.
    for (n, pair) in seen.windows(2).enumerate() {
        assert_eq!(pair[1].2 as usize, n + 2);
        assert!(pair[1].1 >= pair[0].1);
    }
}

#[tokio::test]
async fn a_failure_state_ends_the_wait_at_once() {
    let (script, client) = scripted(vec![service("provisioning"), service("failed")]).await;
    let started = Instant::now();
    let error = client
        .services(Uuid::nil())
        .wait_until(Uuid::nil(), ServiceState::Running)
        .interval(Duration::from_millis(20))
        .budget(Duration::from_secs(60))
        .await
        .unwrap_err();
    match &error {
        Error::WaitFailed { state, target, .. } => {
            assert_eq!(state, "failed");
            assert_eq!(target, "running");
        }
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(script.gets.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn the_operation_table_decides_what_is_resent() {
    // A PATCH that sets values: retried after a 503, three attempts.
    let (script, client) = scripted(vec![service("running")]).await;
    let services = client.services(Uuid::nil());
    let error = services
        .instance_update(Uuid::nil(), ServicePatchRequest::default())
        .await
        .unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(script.patches.load(Ordering::SeqCst), 3);

    // A PATCH that generates a new password: sent once.
    script.patches.store(0, Ordering::SeqCst);
    let error = services
        .instance_password_update(Uuid::nil(), ServicePasswordPatchRequest::default())
        .await
        .unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(script.patches.load(Ordering::SeqCst), 1);
}
