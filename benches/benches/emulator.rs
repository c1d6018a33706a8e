//! The emulator's throughput on loopback with its rate limit off: an
//! authenticated `GET /v1/organizations/{id}/keys` with bare reqwest, one at
//! a time and 32 at once. Client and server share the machine's cores.
//!
//! `cargo bench -p clickhouse-cloud-benches --bench emulator`
#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented function"
)]

use clickhouse_cloud_emulator::Emulator;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tokio::task::JoinSet;

const CONCURRENCY: u64 = 32;

fn emulator(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime starts");
    let emulator = runtime
        .block_on(Emulator::builder().rate_limit(None).start())
        .expect("emulator starts");
    let url = format!(
        "{}/v1/organizations/{}/keys",
        emulator.base_url(),
        emulator.organization_id()
    );
    let authorization = emulator
        .bootstrap_credentials()
        .authorization()
        .expose()
        .to_owned();
    let client = reqwest::Client::new();
    let get = move |client: reqwest::Client, url: String, authorization: String| async move {
        let response = client
            .get(url)
            .header(reqwest::header::AUTHORIZATION, authorization)
            .send()
            .await
            .expect("sent");
        assert!(response.status().is_success(), "{}", response.status());
        response.bytes().await.expect("body").len()
    };

    let mut group = c.benchmark_group("emulator/keys_list");
    group.throughput(Throughput::Elements(1));
    group.bench_function("sequential", |b| {
        b.iter(|| runtime.block_on(get(client.clone(), url.clone(), authorization.clone())))
    });
    group.throughput(Throughput::Elements(CONCURRENCY));
    group.bench_function("concurrent_32", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let mut tasks = JoinSet::new();
                for _ in 0..CONCURRENCY {
                    tasks.spawn(get(client.clone(), url.clone(), authorization.clone()));
                }
                tasks.join_all().await
            })
        })
    });
    group.finish();
    drop(emulator);
}

criterion_group!(benches, emulator);
criterion_main!(benches);
