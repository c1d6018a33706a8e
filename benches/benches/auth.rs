//! Cost of the auth primitives every request or key creation pays.
#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented function"
)]

use clickhouse_cloud_auth::{Credentials, KeyMaterial};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn auth(c: &mut Criterion) {
    let material = KeyMaterial::generate();
    let credentials: Credentials = material.credentials().clone();
    c.bench_function("auth/basic_header", |b| {
        b.iter(|| black_box(&credentials).authorization())
    });
    c.bench_function("auth/hash_data", |b| {
        b.iter(|| black_box(&material).hash_data())
    });
    c.bench_function("auth/generate_key_material", |b| {
        b.iter(KeyMaterial::generate)
    });
}

criterion_group!(benches, auth);
criterion_main!(benches);
