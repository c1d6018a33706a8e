//! Whole-process start-up of `chc` against the emulator on loopback: a few
//! commands, each started, run and waited for, per program found
//! ([`clickhouse_cloud_benches::startup`] says where the programs come
//! from). Build `chc` first:
//!
//! `cargo build --release -p clickhouse-cloud-cli && cargo bench -p clickhouse-cloud-benches --bench startup`
#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented function"
)]

use clickhouse_cloud_benches::startup::{Case, Startup};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn startup(c: &mut Criterion) {
    let startup = match Startup::start() {
        Ok(startup) => startup,
        Err(error) => {
            eprintln!("startup bench: {error}");
            std::process::exit(1);
        }
    };
    for case in Case::ALL {
        let mut group = c.benchmark_group(case.group());
        group.throughput(Throughput::Elements(1));
        for program in &startup.programs {
            let Some(args) = startup.args(program, case) else {
                continue;
            };
            group.bench_function(program.name, |b| b.iter(|| startup.run(program, &args)));
        }
        group.finish();
    }
}

criterion_group!(benches, startup);
criterion_main!(benches);
