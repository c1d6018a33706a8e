//! The client through every fault the emulator can inject: success after a
//! retry, or the right typed error within the time budget; and, asking the
//! emulator afterwards, nothing created twice or lost.

use std::time::{Duration, Instant};

use clickhouse_cloud_client::transport::{Error as TransportError, StatusCode};
use clickhouse_cloud_client::{Client, Error, NewApiKey, Role};
use clickhouse_cloud_emulator::{DEVELOPER_ROLE_ID, Emulator, Fault, FaultPlan, RunningEmulator};

async fn start(plan: FaultPlan) -> RunningEmulator {
    Emulator::builder()
        .rate_limit(None)
        .faults(plan)
        .start()
        .await
        .expect("emulator starts")
}

/// The default client (retries on), without the client-side limiter so
/// timings measure retries alone.
fn client(emulator: &RunningEmulator) -> Client {
    client_with_timeout(emulator, Duration::from_secs(10))
}

fn client_with_timeout(emulator: &RunningEmulator, per_attempt: Duration) -> Client {
    Client::builder()
        .credentials(emulator.bootstrap_credentials().clone())
        .base_url(emulator.base_url())
        .rate_limit(None)
        .request_timeout(per_attempt)
        .build()
        .unwrap()
}

/// The text of the error a [`Error::MayHaveActed`] wraps.
trait SourceText {
    fn source_text(&self) -> String;
}

impl SourceText for Error {
    fn source_text(&self) -> String {
        match self {
            Error::MayHaveActed { error, .. } => error.to_string(),
            other => other.to_string(),
        }
    }
}

/// A key with the Developer role given by ID, so that a create is one
/// request (no roles lookup) and the counts below are the create's alone.
fn create(name: &str) -> NewApiKey {
    NewApiKey::new(name).role(Role::Id(DEVELOPER_ROLE_ID))
}

#[tokio::test]
async fn gateway_and_availability_errors_on_get_are_retried() {
    for fault in [
        Fault::Status(503),
        Fault::HtmlGateway(502),
        Fault::HtmlGateway(504),
        Fault::CutOffBody,
        Fault::ResetBeforeActing,
        Fault::ResetAfterActing,
    ] {
        let emulator = start(FaultPlan::new().on_request(1, fault.clone())).await;
        let keys = client(&emulator)
            .api_keys(emulator.organization_id())
            .list()
            .await
            .unwrap_or_else(|e| panic!("{fault:?}: {e}"));
        assert_eq!(keys.len(), 1, "{fault:?}");
        assert_eq!(emulator.faults_injected(), 1, "{fault:?}");
        assert_eq!(emulator.requests_received(), 2, "{fault:?}");
    }
}

#[tokio::test]
async fn rate_limited_create_is_retried_and_creates_one_key() {
    for fault in [
        Fault::TooManyRequests { retry_after: None },
        Fault::TooManyRequests {
            retry_after: Some(Duration::from_secs(1)),
        },
        Fault::BareTooManyRequests,
    ] {
        let emulator =
            start(FaultPlan::new().on_operation("openapiKeyCreate", 1, fault.clone())).await;
        let org = emulator.organization_id();
        let started = Instant::now();
        client(&emulator)
            .api_keys(org)
            .create(create("once"))
            .await
            .unwrap_or_else(|e| panic!("{fault:?}: {e}"));
        if let Fault::TooManyRequests {
            retry_after: Some(wait),
        } = fault
        {
            assert!(started.elapsed() >= wait, "Retry-After was not honoured");
        }
        assert_eq!(emulator.keys_named(org, "once"), 1, "{fault:?}");
        assert_eq!(emulator.faults_injected(), 1, "{fault:?}");
    }
}

#[tokio::test]
async fn a_500_fails_fast() {
    let emulator = start(FaultPlan::new().on_request(1, Fault::Status(500))).await;
    let error = client(&emulator).organizations().list().await.unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::INTERNAL_SERVER_ERROR));
    assert!(!error.is_retryable());
    assert!(error.request_id().is_some());
    assert_eq!(emulator.requests_received(), 1);
}

#[tokio::test]
async fn gateway_errors_on_create_are_not_retried_and_nothing_is_created() {
    for fault in [
        Fault::HtmlGateway(502),
        Fault::HtmlGateway(504),
        Fault::Status(503),
    ] {
        let emulator =
            start(FaultPlan::new().on_operation("openapiKeyCreate", 1, fault.clone())).await;
        let org = emulator.organization_id();
        let error = client(&emulator)
            .api_keys(org)
            .create(create("gw"))
            .await
            .unwrap_err();
        assert!(error.is_retryable(), "{fault:?}: {error}");
        assert_eq!(
            emulator.requests_received(),
            1,
            "{fault:?}: POST must not be resent"
        );
        assert_eq!(emulator.keys_named(org, "gw"), 0, "{fault:?}");
        if let Fault::HtmlGateway(code) = fault {
            // A gateway answered in the service's place: the create may
            // have gone through, and the error says to look first.
            assert!(error.may_have_acted(), "{fault:?}");
            assert!(!error.may_have_acted_earlier(), "{fault:?}");
            assert!(
                error
                    .to_string()
                    .ends_with("the service may have created it; list before trying again"),
                "{error}"
            );
            let Error::MayHaveActed { error: inner, .. } = &error else {
                panic!("{error:?}");
            };
            match &**inner {
                Error::Transport {
                    source:
                        TransportError::UnexpectedBody {
                            status, excerpt, ..
                        },
                    ..
                } => {
                    assert_eq!(status.as_u16(), code);
                    assert!(excerpt.starts_with("<html>"), "{excerpt}");
                }
                other => panic!("{other:?}"),
            }
            // The page has no requestId; the CDN's header does.
            let id = error.request_id().expect("the CDN's request ID");
            assert!(id.len() > 8 && id.ends_with("=="), "{id}");
            assert!(error.to_string().contains(id), "{error}");
        } else {
            // A 503 is the service saying it did not take the request.
            assert!(!error.may_have_acted(), "{fault:?}");
            assert!(!matches!(error, Error::MayHaveActed { .. }), "{error:?}");
        }
    }
}

#[tokio::test]
async fn a_reset_create_is_never_sent_twice() {
    // Before acting: nothing was created, and nothing is.
    let emulator =
        start(FaultPlan::new().on_operation("openapiKeyCreate", 1, Fault::ResetBeforeActing)).await;
    let org = emulator.organization_id();
    let error = client(&emulator)
        .api_keys(org)
        .create(create("r1"))
        .await
        .unwrap_err();
    assert!(error.is_retryable());
    // The client cannot tell a reset before acting from one after: it
    // says the key may exist.
    assert!(error.may_have_acted(), "{error:?}");
    assert!(
        error
            .to_string()
            .contains("may have created it; list before trying again"),
        "{error}"
    );
    assert_eq!(emulator.keys_named(org, "r1"), 0);

    // After acting: the key exists once; the client did not make a second.
    let emulator =
        start(FaultPlan::new().on_operation("openapiKeyCreate", 1, Fault::ResetAfterActing)).await;
    let org = emulator.organization_id();
    let error = client(&emulator)
        .api_keys(org)
        .create(create("r2"))
        .await
        .unwrap_err();
    assert!(error.may_have_acted(), "{error:?}");
    assert!(!error.may_have_acted_earlier(), "{error:?}");
    assert_eq!(
        error.to_string(),
        format!(
            "{}; the service may have created it; list before trying again",
            error.source_text()
        )
    );
    assert_eq!(emulator.keys_named(org, "r2"), 1);
    assert_eq!(emulator.requests_received(), 1);
}

#[tokio::test]
async fn slow_responses_time_out_per_attempt() {
    // A slow GET: the first attempt times out, the retry succeeds.
    let emulator = start(FaultPlan::new().on_request(1, Fault::Slow(Duration::from_secs(3)))).await;
    let started = Instant::now();
    client_with_timeout(&emulator, Duration::from_millis(300))
        .organizations()
        .list()
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(emulator.requests_received(), 2);

    // A slow POST: the server acted, the client times out and does not resend.
    let emulator = start(FaultPlan::new().on_operation(
        "openapiKeyCreate",
        1,
        Fault::Slow(Duration::from_secs(3)),
    ))
    .await;
    let org = emulator.organization_id();
    let error = client_with_timeout(&emulator, Duration::from_millis(300))
        .api_keys(org)
        .create(create("slow"))
        .await
        .unwrap_err();
    let Error::MayHaveActed { error: inner, .. } = &error else {
        panic!("{error:?}");
    };
    assert!(
        matches!(
            **inner,
            Error::Transport {
                source: TransportError::Timeout { .. },
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.may_have_acted());
    assert!(
        error.to_string().contains("list before trying again"),
        "{error}"
    );
    assert_eq!(emulator.requests_received(), 1);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(emulator.keys_named(org, "slow"), 1);
}

#[tokio::test]
async fn persistent_failure_stops_after_the_attempt_cap_with_the_last_request_id() {
    let emulator = start(FaultPlan::random(7, 1.0, [Fault::Status(503)])).await;
    let started = Instant::now();
    let error = client(&emulator).organizations().list().await.unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert!(error.is_retryable());
    assert!(error.request_id().is_some());
    assert_eq!(emulator.requests_received(), 5);
    // Backoff ceilings 250 ms + 500 ms + 1 s + 2 s.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_retried_delete_that_already_happened_reports_not_found_and_deletes_once() {
    let emulator = start(FaultPlan::new()).await;
    let org = emulator.organization_id();
    let keys = client(&emulator).api_keys(org);
    let created = keys.create(create("doomed")).await.unwrap();
    emulator.set_faults(FaultPlan::new().on_operation(
        "openapiKeyDelete",
        1,
        Fault::ResetAfterActing,
    ));
    let error = keys.delete(created.key.id.unwrap()).await.unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::NOT_FOUND));
    // The first attempt was cut off after the service deleted: the error
    // says so, and a caller can report the key as deleted.
    assert!(error.may_have_acted_earlier(), "{error:?}");
    assert!(error.may_have_acted());
    assert!(error.api().is_some());
    assert!(error.request_id().is_some());
    let text = error.to_string();
    assert!(
        text.contains("an earlier attempt failed in transit: connection error"),
        "{text}"
    );
    assert_eq!(emulator.keys_named(org, "doomed"), 0);
    assert_eq!(emulator.key_count(org), 1);

    // A plain 404 says nothing of the kind.
    let error = keys.delete(uuid::Uuid::new_v4()).await.unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::NOT_FOUND));
    assert!(!error.may_have_acted_earlier(), "{error:?}");
    assert!(!error.may_have_acted(), "{error:?}");
}

#[tokio::test]
async fn a_retried_get_after_a_gateway_error_says_an_earlier_attempt_may_have_acted() {
    let emulator = start(FaultPlan::new().on_request(1, Fault::HtmlGateway(504))).await;
    let org = emulator.organization_id();
    // The retry's answer is an error too (a key that does not exist).
    let error = client(&emulator)
        .api_keys(org)
        .get(uuid::Uuid::new_v4())
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::NOT_FOUND));
    assert!(error.may_have_acted_earlier(), "{error:?}");
    assert!(error.to_string().contains("HTTP 504"), "{error}");
    assert_eq!(emulator.requests_received(), 2);
}

#[tokio::test]
async fn seeded_random_faults_lose_and_duplicate_nothing() {
    let plan = FaultPlan::random(
        42,
        0.3,
        [
            Fault::TooManyRequests { retry_after: None },
            Fault::Status(503),
            Fault::HtmlGateway(502),
            Fault::HtmlGateway(504),
            Fault::ResetBeforeActing,
            Fault::ResetAfterActing,
            Fault::CutOffBody,
        ],
    );
    let emulator = start(plan).await;
    let org = emulator.organization_id();
    let keys = client(&emulator).api_keys(org);
    let mut created = 0;
    for n in 0..30 {
        let name = format!("key-{n}");
        let outcome = keys.create(create(&name)).await;
        let count = emulator.keys_named(org, &name);
        match outcome {
            Ok(_) => {
                assert_eq!(count, 1, "{name} created but not stored exactly once");
                created += 1;
            }
            Err(error) => {
                assert!(count <= 1, "{name} stored {count} times after {error}");
                created += count;
            }
        }
    }
    assert!(emulator.faults_injected() > 0);
    assert_eq!(emulator.key_count(org), 1 + created);
    // Reads under the same faults always succeed in the end.
    for _ in 0..10 {
        keys.list().await.unwrap();
    }
}
