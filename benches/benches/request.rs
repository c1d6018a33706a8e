//! Per-request overhead: one GET of a recorded key list from a local server
//! of fixed bytes, through our client (rate limiter on but not binding,
//! retries on, a tracing subscriber installed) and through bare reqwest +
//! `serde_json` into the same types; one at a time and 32 at once.
//!
//! `cargo bench -p clickhouse-cloud-benches --bench request`
#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented function"
)]

use std::time::Duration;

use clickhouse_cloud_auth::KeyMaterial;
use clickhouse_cloud_benches::server::FixedServer;
use clickhouse_cloud_benches::{bodies, install_sink_subscriber};
use clickhouse_cloud_client::Client;
use clickhouse_cloud_client::transport::RateLimit;
use clickhouse_cloud_types::{ApiKey, Envelope};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tokio::task::JoinSet;
use uuid::Uuid;

/// Keys in the recorded list: a typical organization's.
const KEYS: u64 = 10;
/// Requests in flight in the concurrent case.
const CONCURRENCY: u64 = 32;

/// Bare reqwest: the same request our client sends, decoded into the same
/// types, with nothing else.
#[derive(Clone)]
struct Bare {
    client: reqwest::Client,
    url: String,
    authorization: String,
}

impl Bare {
    async fn list(&self) -> Vec<ApiKey> {
        let response = self
            .client
            .get(&self.url)
            .header(reqwest::header::AUTHORIZATION, &self.authorization)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .expect("sent");
        assert!(response.status().is_success());
        let body = response.bytes().await.expect("body");
        let envelope: Envelope<Vec<ApiKey>> = serde_json::from_slice(&body).expect("decodes");
        envelope.result.unwrap_or_default()
    }
}

fn request(c: &mut Criterion) {
    install_sink_subscriber();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime starts");
    let server = runtime
        .block_on(FixedServer::start(bodies::key_list(KEYS)))
        .expect("server starts");
    let credentials = KeyMaterial::generate().into_credentials();
    let org = Uuid::nil();
    let ours = Client::builder()
        .credentials(credentials.clone())
        .base_url(server.base_url())
        // On, but far above what one machine can send.
        .rate_limit(Some(RateLimit {
            requests: 1_000_000,
            window: Duration::from_secs(1),
        }))
        .build()
        .expect("client builds");
    let bare = Bare {
        client: reqwest::Client::new(),
        url: format!("{}/v1/organizations/{org}/keys", server.base_url()),
        authorization: credentials.authorization().expose().to_owned(),
    };

    let mut group = c.benchmark_group("request/sequential");
    group.throughput(Throughput::Elements(1));
    group.bench_function("ours", |b| {
        b.iter(|| runtime.block_on(ours.api_keys(org).list()).expect("ok"))
    });
    group.bench_function("bare_reqwest", |b| b.iter(|| runtime.block_on(bare.list())));
    group.finish();

    let mut group = c.benchmark_group("request/concurrent_32");
    group.throughput(Throughput::Elements(CONCURRENCY));
    group.bench_function("ours", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let mut tasks = JoinSet::new();
                for _ in 0..CONCURRENCY {
                    let keys = ours.api_keys(org);
                    tasks.spawn(async move { keys.list().await.expect("ok").len() });
                }
                tasks.join_all().await
            })
        })
    });
    group.bench_function("bare_reqwest", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let mut tasks = JoinSet::new();
                for _ in 0..CONCURRENCY {
                    let bare = bare.clone();
                    tasks.spawn(async move { bare.list().await.len() });
                }
                tasks.join_all().await
            })
        })
    });
    group.finish();
    drop(server);
}

criterion_group!(benches, request);
criterion_main!(benches);
