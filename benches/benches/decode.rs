//! Decoding the same response bytes, side by side: our types, our client's
//! whole decode path, the official crate's types (feature `official`), a
//! zero-copy struct of borrowed `&str` fields (the floor for typed decoding)
//! and `IgnoredAny` (parsing alone).
//!
//! `cargo bench -p clickhouse-cloud-benches --features official --bench decode`
#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented function"
)]

use std::hint::black_box;

use clickhouse_cloud_benches::{FixedTransport, bodies, borrowed};
use clickhouse_cloud_client::Client;
use clickhouse_cloud_client::transport::NoRetry;
use clickhouse_cloud_types::ops::ActivityListQuery;
use clickhouse_cloud_types::{Activity, ApiKey, Envelope};
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use serde::de::IgnoredAny;
use uuid::Uuid;

type Group<'a> = BenchmarkGroup<'a, criterion::measurement::WallTime>;

fn group<'a>(c: &'a mut Criterion, name: &str, body: &[u8]) -> Group<'a> {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::BytesDecimal(body.len() as u64));
    group.sampling_mode(criterion::SamplingMode::Flat);
    group
}

/// Our client's decode path, exactly as a call runs it: `Client::send` over
/// an in-memory transport (no limiter, no retries, no socket).
fn client_for(body: &[u8]) -> (Client, tokio::runtime::Runtime) {
    let client = Client::builder()
        .transport(FixedTransport::new(body.to_vec()))
        .rate_limit(None)
        .retry_policy(NoRetry)
        .build()
        .expect("client builds");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime starts");
    (client, runtime)
}

fn common<'de, B>(group: &mut Group<'_>, body: &'de [u8])
where
    B: serde::Deserialize<'de>,
{
    group.bench_function("zero_copy", |b| {
        b.iter(|| serde_json::from_slice::<B>(black_box(body)).expect("decodes"))
    });
    group.bench_function("parse_only", |b| {
        b.iter(|| serde_json::from_slice::<IgnoredAny>(black_box(body)).expect("parses"))
    });
}

fn keys(c: &mut Criterion) {
    let body = bodies::key_list(1000);
    let mut group = group(c, "decode/keys_1000", &body);
    group.bench_function("ours", |b| {
        b.iter(|| serde_json::from_slice::<Envelope<Vec<ApiKey>>>(black_box(&body)).expect("ok"))
    });
    let (client, runtime) = client_for(&body);
    let keys = client.api_keys(Uuid::nil());
    group.bench_function("ours_client", |b| {
        b.iter(|| runtime.block_on(keys.list()).expect("ok"))
    });
    #[cfg(feature = "official")]
    group.bench_function("official", |b| {
        use clickhouse_cloud_api::models::{ApiKey, ApiResponse};
        b.iter(|| serde_json::from_slice::<ApiResponse<Vec<ApiKey>>>(black_box(&body)).expect("ok"))
    });
    common::<borrowed::Envelope<borrowed::ApiKey<'_>>>(&mut group, &body);
    group.finish();
}

fn activities(c: &mut Criterion) {
    let body = bodies::activity_list(10_000);
    let mut group = group(c, "decode/activities_10000", &body);
    group.bench_function("ours", |b| {
        b.iter(|| serde_json::from_slice::<Envelope<Vec<Activity>>>(black_box(&body)).expect("ok"))
    });
    let (client, runtime) = client_for(&body);
    let activities = client.activities(Uuid::nil());
    group.bench_function("ours_client", |b| {
        b.iter(|| {
            runtime
                .block_on(activities.list(ActivityListQuery::default()))
                .expect("ok")
        })
    });
    #[cfg(feature = "official")]
    group.bench_function("official", |b| {
        use clickhouse_cloud_api::models::{Activity, ApiResponse};
        b.iter(|| {
            serde_json::from_slice::<ApiResponse<Vec<Activity>>>(black_box(&body)).expect("ok")
        })
    });
    common::<borrowed::Envelope<borrowed::Activity<'_>>>(&mut group, &body);
    group.finish();
}

fn services(c: &mut Criterion) {
    let body = bodies::service_list(200);
    let mut group = group(c, "decode/services_200", &body);
    // We have no `Service` type: the best our side can do is a
    // `serde_json::Value` per service.
    group.bench_function("ours_value", |b| {
        b.iter(|| {
            serde_json::from_slice::<Envelope<Vec<serde_json::Value>>>(black_box(&body))
                .expect("ok")
        })
    });
    #[cfg(feature = "official")]
    group.bench_function("official", |b| {
        use clickhouse_cloud_api::models::{ApiResponse, Service};
        b.iter(|| {
            serde_json::from_slice::<ApiResponse<Vec<Service>>>(black_box(&body)).expect("ok")
        })
    });
    common::<borrowed::Envelope<borrowed::Service<'_>>>(&mut group, &body);
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = keys, activities, services
}
criterion_main!(benches);
