//! Rate limiting, retries and timeouts, against the emulator over
//! loopback.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clickhouse_cloud_client::transport::{
    BoxFuture, Error as TransportError, HttpRequest, HttpResponse, NoRetry, RateLimit,
    ReqwestTransport, StatusCode, Transport,
};
use clickhouse_cloud_client::{Client, Credentials, NewApiKey, Role};
use clickhouse_cloud_emulator::{Emulator, RateLimit as ServerLimit, RunningEmulator};

/// Counts what the wire saw, below the client's retry layer.
#[derive(Debug, Clone, Default)]
struct Counters {
    requests: Arc<AtomicUsize>,
    too_many: Arc<AtomicUsize>,
}

#[derive(Debug)]
struct Counting {
    inner: ReqwestTransport,
    counters: Counters,
}

impl Transport for Counting {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, TransportError>> {
        Box::pin(async move {
            self.counters.requests.fetch_add(1, Ordering::SeqCst);
            let response = self.inner.send(request).await?;
            if response.status.as_u16() == 429 {
                self.counters.too_many.fetch_add(1, Ordering::SeqCst);
            }
            Ok(response)
        })
    }
}

fn counting_client(
    emulator: &RunningEmulator,
    credentials: &Credentials,
    limit: Option<RateLimit>,
) -> (Client, Counters) {
    let counters = Counters::default();
    let inner = ReqwestTransport::builder(credentials.clone())
        .base_url(emulator.base_url())
        .build()
        .unwrap();
    let client = Client::builder()
        .transport(Counting {
            inner,
            counters: counters.clone(),
        })
        .rate_limit(limit)
        .build()
        .unwrap();
    (client, counters)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn burst_from_eight_tasks_meets_the_limit_without_429() {
    let window = Duration::from_secs(2);
    let emulator = Emulator::builder()
        .rate_limit(Some(ServerLimit {
            requests: 10,
            window,
        }))
        .start()
        .await
        .unwrap();
    let limit = RateLimit {
        requests: 10,
        window,
    };
    let (client, counters) =
        counting_client(&emulator, emulator.bootstrap_credentials(), Some(limit));
    let started = Instant::now();
    let tasks: Vec<_> = (0..8)
        .map(|task| {
            let client = client.clone();
            tokio::spawn(async move {
                // 50 calls in all: 7 tasks make 6, one makes 8.
                let calls = if task == 0 { 8 } else { 6 };
                for _ in 0..calls {
                    client.organizations().list().await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let elapsed = started.elapsed();
    assert_eq!(counters.requests.load(Ordering::SeqCst), 50);
    assert_eq!(counters.too_many.load(Ordering::SeqCst), 0);
    // 50 requests at 10 per window: the last starts 4 windows in.
    let minimum = window * 4;
    assert!(elapsed >= minimum, "{elapsed:?}");
    assert!(
        elapsed <= minimum.mul_f64(1.15),
        "{elapsed:?} vs {minimum:?}"
    );
}

#[tokio::test]
async fn learns_from_the_servers_rate_limit_headers() {
    let emulator = Emulator::builder()
        .rate_limit(Some(ServerLimit {
            requests: 10,
            window: Duration::from_secs(2),
        }))
        .start()
        .await
        .unwrap();
    // Someone else spends 8 of the key's 10 requests.
    let (other, _) = counting_client(&emulator, emulator.bootstrap_credentials(), None);
    for _ in 0..8 {
        other.organizations().list().await.unwrap();
    }
    // This client's own limiter knows nothing of that; the headers tell it.
    let (client, counters) = counting_client(
        &emulator,
        emulator.bootstrap_credentials(),
        Some(RateLimit {
            requests: 10,
            window: Duration::from_secs(2),
        }),
    );
    for _ in 0..5 {
        client.organizations().list().await.unwrap();
    }
    assert_eq!(counters.too_many.load(Ordering::SeqCst), 0);
    assert_eq!(counters.requests.load(Ordering::SeqCst), 5);
}

#[tokio::test]
async fn a_429_is_retried_after_the_wait_the_server_asked_for() {
    let emulator = Emulator::builder()
        .rate_limit(Some(ServerLimit {
            requests: 2,
            window: Duration::from_secs(1),
        }))
        .start()
        .await
        .unwrap();
    let (client, counters) = counting_client(&emulator, emulator.bootstrap_credentials(), None);
    let org = emulator.organization_id();
    for n in 0..4 {
        client
            .api_keys(org)
            .create(NewApiKey::new(format!("k{n}")).role(Role::Developer))
            .await
            .unwrap();
    }
    assert!(counters.too_many.load(Ordering::SeqCst) >= 1);
    // POSTs retried after a 429 created each key exactly once.
    assert_eq!(emulator.key_count(org), 5);
}

/// A server that accepts connections and never answers.
async fn silent_server() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let handle = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (url, handle)
}

#[tokio::test]
async fn total_timeout_bounds_a_hung_server_and_dropped_calls_cancel_cleanly() {
    let (url, server) = silent_server().await;
    let credentials = clickhouse_cloud_client::auth::KeyMaterial::generate().into_credentials();
    let client = Client::builder()
        .credentials(credentials)
        .base_url(url)
        .request_timeout(Duration::from_secs(30))
        .total_timeout(Some(Duration::from_millis(300)))
        .build()
        .unwrap();
    let started = Instant::now();
    let error = client.organizations().list().await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        matches!(
            &error,
            clickhouse_cloud_client::Error::Transport {
                source: TransportError::Timeout { .. },
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.is_retryable());
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");

    // A caller that gives up early drops the call; the client stays usable.
    let gave_up =
        tokio::time::timeout(Duration::from_millis(50), client.organizations().list()).await;
    assert!(gave_up.is_err());
    let error = client.organizations().list().await.unwrap_err();
    assert!(error.is_retryable(), "{error:?}");
    server.abort();
}

#[tokio::test]
async fn a_limiter_wait_beyond_the_time_budget_fails_fast_as_rate_limited() {
    let emulator = Emulator::builder().rate_limit(None).start().await.unwrap();
    let inner = ReqwestTransport::builder(emulator.bootstrap_credentials().clone())
        .base_url(emulator.base_url())
        .build()
        .unwrap();
    let counters = Counters::default();
    let client = Client::builder()
        .transport(Counting {
            inner,
            counters: counters.clone(),
        })
        .rate_limit(Some(RateLimit {
            requests: 1,
            window: Duration::from_secs(30),
        }))
        .total_timeout(Some(Duration::from_secs(2)))
        .build()
        .unwrap();
    client.organizations().list().await.unwrap();

    // The next start is ~30 s away, far beyond the 2 s budget: no sleeping
    // into a timeout, no request on the wire.
    let started = Instant::now();
    let error = client.organizations().list().await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_millis(500), "{elapsed:?}");
    match &error {
        clickhouse_cloud_client::Error::Transport {
            source:
                TransportError::RateLimited {
                    wait, budget_left, ..
                },
            ..
        } => {
            assert!(*wait > Duration::from_secs(25), "{wait:?}");
            assert!(*budget_left <= Duration::from_secs(2), "{budget_left:?}");
        }
        other => panic!("{other:?}"),
    }
    assert!(error.is_retryable());
    assert!(error.is_rate_limited());
    assert!(error.retry_after() > Some(Duration::from_secs(25)));
    assert!(error.to_string().contains("rate limited"), "{error}");
    assert_eq!(counters.requests.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_retry_wait_beyond_the_time_budget_answers_with_the_429_at_once() {
    // The second request meets a 429 with `Retry-After: 30`, far beyond
    // the 2 s budget: no sleeping into a timeout, the 429 itself comes back.
    let emulator = Emulator::builder()
        .rate_limit(None)
        .faults("2:429@30s".parse().unwrap())
        .start()
        .await
        .unwrap();
    let client = Client::builder()
        .credentials(emulator.bootstrap_credentials().clone())
        .base_url(emulator.base_url())
        .rate_limit(Some(RateLimit {
            requests: 100,
            window: Duration::from_secs(1),
        }))
        .total_timeout(Some(Duration::from_secs(2)))
        .build()
        .unwrap();
    client.organizations().list().await.unwrap();

    let started = Instant::now();
    let error = client.organizations().list().await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_millis(1500), "{elapsed:?}");
    assert_eq!(
        error.status(),
        Some(StatusCode::TOO_MANY_REQUESTS),
        "{error:?}"
    );
    assert!(error.is_rate_limited() && error.is_retryable());
    assert!(error.request_id().is_some(), "{error:?}");
    assert!(
        error.retry_after() > Some(Duration::from_secs(20)),
        "{error:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_for_one_key_and_url_share_one_limiter() {
    let emulator = Emulator::builder().rate_limit(None).start().await.unwrap();
    let limit = RateLimit {
        requests: 2,
        window: Duration::from_secs(2),
    };
    // Built separately, as two parts of a program would.
    let build = || {
        Client::builder()
            .credentials(emulator.bootstrap_credentials().clone())
            .base_url(emulator.base_url())
            .rate_limit(Some(limit))
            .retry_policy(NoRetry)
            .build()
            .unwrap()
    };
    let (first, second) = (build(), build());
    let calls: Vec<_> = [&first, &first, &second, &second]
        .into_iter()
        .map(|client| {
            let client = client.clone();
            tokio::spawn(async move { client.organizations().list().await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(700)).await;
    // Two per window between them: two clients with a limiter each would
    // have let all four through by now.
    assert_eq!(emulator.requests_received(), 2);
    for call in calls {
        call.await.unwrap().unwrap();
    }
    assert_eq!(emulator.requests_received(), 4);
}
