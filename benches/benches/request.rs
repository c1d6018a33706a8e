//! Per-request overhead: one GET of a recorded key list from a local server
//! of fixed bytes, through our client (rate limiter on but not binding,
//! retries on, a tracing subscriber installed) and through bare reqwest +
//! `serde_json` into the same types; one at a time and 32 at once. The
//! setup is [`clickhouse_cloud_benches::cases::RequestCase`].
//!
//! `cargo bench -p clickhouse-cloud-benches --bench request`
#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented function"
)]

use clickhouse_cloud_benches::cases::{CONCURRENCY, PAGES, RequestCase};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn request(c: &mut Criterion) {
    let case = RequestCase::start();
    for (group, concurrent, n) in [
        ("request/sequential", false, 1),
        ("request/concurrent_32", true, CONCURRENCY as u64),
    ] {
        let mut group = c.benchmark_group(group);
        group.throughput(Throughput::Elements(n));
        for mut contender in case.contenders(concurrent) {
            group.bench_function(contender.name, |b| b.iter(&mut contender.run));
        }
        group.finish();
    }
    let mut group = c.benchmark_group("request/paged_5x50");
    group.throughput(Throughput::Elements(PAGES));
    for mut contender in case.paged_contenders() {
        group.bench_function(contender.name, |b| b.iter(&mut contender.run));
    }
    group.finish();
}

criterion_group!(benches, request);
criterion_main!(benches);
