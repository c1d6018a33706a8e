//! What the client logs, with a subscriber that keeps every line: never a
//! secret, and retries at `INFO` with what identifies them. The tests take
//! turns: a subscriber set for one thread still shares the process-wide
//! level hint and callsite cache with every other.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use clickhouse_cloud_client::transport::NoRetry;
use clickhouse_cloud_client::{Client, NewApiKey, Role};
use clickhouse_cloud_emulator::{Emulator, RateLimit as ServerLimit};

/// One logging test at a time.
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A writer that keeps everything logged, to search it afterwards.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_never_contain_secrets_or_the_authorization_header() {
    let _turn = TURN.lock().await;
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let emulator = Emulator::builder()
        .rate_limit(Some(ServerLimit {
            requests: 3,
            window: Duration::from_secs(1),
        }))
        .start()
        .await
        .unwrap();
    let admin = Client::builder()
        .credentials(emulator.bootstrap_credentials().clone())
        .base_url(emulator.base_url())
        .rate_limit(None)
        .build()
        .unwrap();
    let org = emulator.organization_id();
    let created = admin
        .api_keys(org)
        .create(NewApiKey::new("logged").role(Role::Admin))
        .await
        .unwrap();
    for _ in 0..4 {
        admin.organizations().list().await.unwrap(); // one 429, retried
    }
    let wrong = Client::builder()
        .credentials(created.credentials.clone())
        .base_url(emulator.base_url())
        .retry_policy(NoRetry)
        .build()
        .unwrap();
    wrong
        .api_keys(org)
        .delete(created.key.id.unwrap())
        .await
        .ok();
    drop(_guard);

    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("clickhouse_cloud.call"),
        "spans are logged: {text}"
    );
    assert!(text.contains("retrying"), "the retry is logged: {text}");
    for secret in [
        emulator.bootstrap_credentials().key_secret().expose(),
        created.credentials.key_secret().expose(),
    ] {
        assert!(!text.contains(secret), "a secret leaked into the logs");
    }
    for header in [
        emulator.bootstrap_credentials().authorization(),
        created.credentials.authorization(),
    ] {
        assert!(!text.contains(header.expose()));
    }
    assert!(!text.to_ascii_lowercase().contains("authorization: basic"));
}

#[tokio::test]
async fn retries_are_logged_at_info_with_operation_attempt_status_and_request_id() {
    let _turn = TURN.lock().await;
    let captured = Captured::default();
    let writer = captured.clone();
    // INFO only: the per-call span (DEBUG) is off, so what the line says it
    // must carry itself.
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let emulator = Emulator::builder()
        .rate_limit(None)
        .faults("1:503".parse().unwrap())
        .start()
        .await
        .unwrap();
    let client = Client::builder()
        .credentials(emulator.bootstrap_credentials().clone())
        .base_url(emulator.base_url())
        .rate_limit(None)
        .build()
        .unwrap();
    client.organizations().list().await.unwrap();
    drop(_guard);

    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let line = text
        .lines()
        .find(|line| line.contains("retrying"))
        .unwrap_or_else(|| panic!("no retry line: {text}"));
    assert!(line.contains(" INFO "), "{line}");
    assert!(
        line.contains(r#"operation="organizationGetList""#),
        "{line}"
    );
    assert!(line.contains(" attempt=1 "), "{line}");
    assert!(line.contains(" status=503 "), "{line}");
    let request_id = line
        .split_once(" request_id=")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no request_id: {line}"))
        .trim_matches('"');
    assert!(uuid::Uuid::parse_str(request_id).is_ok(), "{line}");
}
