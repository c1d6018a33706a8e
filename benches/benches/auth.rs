//! Cost of the auth primitives every request or key creation pays: the Basic
//! header, `hashData`, and generating key material.
//!
//! `cargo bench -p clickhouse-cloud-benches --bench auth`
#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented function"
)]

use clickhouse_cloud_auth::{Credentials, KeyMaterial};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

fn auth(c: &mut Criterion) {
    let material = KeyMaterial::generate();
    let credentials: Credentials = material.credentials().clone();
    let mut group = c.benchmark_group("auth");
    group.throughput(Throughput::Elements(1));
    group.bench_function("basic_header", |b| {
        b.iter(|| black_box(&credentials).authorization())
    });
    group.bench_function("hash_data", |b| b.iter(|| black_box(&material).hash_data()));
    group.bench_function("generate_key_material", |b| b.iter(KeyMaterial::generate));
    group.finish();
}

criterion_group!(benches, auth);
criterion_main!(benches);
