//! Decoding the same response bytes, side by side: our types, our client's
//! whole decode path, the official crate's types (feature `official`), a
//! zero-copy struct of borrowed `&str` fields (the floor for typed decoding)
//! and `IgnoredAny` (parsing alone). The cases are in
//! [`clickhouse_cloud_benches::cases`].
//!
//! `cargo bench -p clickhouse-cloud-benches --features official --bench decode`
#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented function"
)]

use clickhouse_cloud_benches::cases::decode_cases;
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};

fn decode(c: &mut Criterion) {
    for case in decode_cases() {
        let mut group = c.benchmark_group(case.group);
        group.throughput(Throughput::BytesDecimal(case.body.len() as u64));
        group.sampling_mode(SamplingMode::Flat);
        for mut contender in case.contenders() {
            group.bench_function(contender.name, |b| b.iter(&mut contender.run));
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = decode
}
criterion_main!(benches);
