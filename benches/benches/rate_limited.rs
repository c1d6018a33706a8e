//! Rate-limited throughput: 100 requests from 8 tasks against the emulator
//! with its limit scaled to 10 requests per second, through our client with
//! the same limit configured. Prints one JSON line per run: total time, the
//! theoretical minimum, and how many `429`s crossed the wire.
//!
//! A second run, with the client-side limiter off (retries still honouring
//! `Retry-After`), shows what the limiter saves.
//!
//! Seconds-long, so not a criterion bench:
//! `cargo bench -p clickhouse-cloud-benches --bench rate_limited`

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clickhouse_cloud_benches::print_result;
use clickhouse_cloud_client::Client;
use clickhouse_cloud_client::transport::{
    BoxFuture, Error, HttpRequest, HttpResponse, RateLimit, ReqwestTransport, StatusCode, Transport,
};
use clickhouse_cloud_emulator::{Emulator, RateLimit as ServerLimit};
use serde_json::json;

const REQUESTS: u64 = 100;
const TASKS: u64 = 8;
const LIMIT: u32 = 10;
const WINDOW: Duration = Duration::from_secs(1);

/// Counts the responses, by status, that cross the wire.
#[derive(Debug)]
struct Counting {
    inner: ReqwestTransport,
    sent: Arc<AtomicU64>,
    too_many: Arc<AtomicU64>,
}

impl Transport for Counting {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, Error>> {
        Box::pin(async move {
            self.sent.fetch_add(1, Ordering::Relaxed);
            let response = self.inner.send(request).await?;
            if response.status == StatusCode::TOO_MANY_REQUESTS {
                self.too_many.fetch_add(1, Ordering::Relaxed);
            }
            Ok(response)
        })
    }
}

async fn run(client_limiter: bool) -> serde_json::Value {
    let emulator = Emulator::builder()
        .rate_limit(Some(ServerLimit {
            requests: LIMIT,
            window: WINDOW,
        }))
        .start()
        .await
        .expect("emulator starts");
    let sent = Arc::new(AtomicU64::new(0));
    let too_many = Arc::new(AtomicU64::new(0));
    let transport = ReqwestTransport::builder(emulator.bootstrap_credentials().clone())
        .base_url(emulator.base_url())
        .build()
        .expect("transport builds");
    let client = Client::builder()
        .transport(Counting {
            inner: transport,
            sent: sent.clone(),
            too_many: too_many.clone(),
        })
        .rate_limit(client_limiter.then_some(RateLimit {
            requests: LIMIT,
            window: WINDOW,
        }))
        .build()
        .expect("client builds");
    let org = emulator.organization_id();
    let next = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..TASKS {
        let (client, next, failed) = (client.clone(), next.clone(), failed.clone());
        tasks.spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < REQUESTS {
                if client.api_keys(org).list().await.is_err() {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    tasks.join_all().await;
    let elapsed = started.elapsed().as_secs_f64();
    // The emulator's windows are fixed and open at a window's first request:
    // a client that sends each batch of LIMIT the instant a window opens
    // finishes the last batch (REQUESTS / LIMIT - 1) windows after the first.
    let minimum = (REQUESTS.div_ceil(u64::from(LIMIT)) - 1) as f64 * WINDOW.as_secs_f64();
    json!({
        "bench": "rate_limited",
        "client_limiter": client_limiter,
        "requests": REQUESTS,
        "tasks": TASKS,
        "limit": LIMIT,
        "window_s": WINDOW.as_secs_f64(),
        "elapsed_s": elapsed,
        "minimum_s": minimum,
        "ratio": elapsed / minimum,
        "sent": sent.load(Ordering::Relaxed),
        "status_429": too_many.load(Ordering::Relaxed),
        "failed": failed.load(Ordering::Relaxed),
    })
}

fn main() {
    // `cargo bench` passes `--bench`; `--skip-baseline` leaves out the run
    // without a client-side limiter.
    let skip_baseline = std::env::args().any(|a| a == "--skip-baseline");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime starts");
    print_result(&runtime.block_on(run(true)));
    if !skip_baseline {
        print_result(&runtime.block_on(run(false)));
    }
}
