//! The comparisons of the `decode` and `request` benches again, measured
//! interleaved ([`clickhouse_cloud_benches::paired`]): the contenders take
//! turns round after round, so a burst of load on a shared machine hits
//! both sides of a ratio alike. Prints one JSON line per comparison with
//! every round's time per iteration; `cargo xtask bench-report` takes the
//! median of the per-round ratios.
//!
//! `cargo bench -p clickhouse-cloud-benches --features official --bench ratios [-- --quick]`

use clickhouse_cloud_benches::cases::{CONCURRENCY, PAGES, RequestCase, decode_cases};
use clickhouse_cloud_benches::paired::{Plan, Work, report};
use clickhouse_cloud_benches::print_result;

fn main() {
    let plan = Plan::new(std::env::args().any(|a| a == "--quick"));
    for case in decode_cases() {
        let mut contenders = case.contenders();
        let work = Work::Bytes(case.body.len() as u64);
        print_result(&report(case.group, work, plan, &mut contenders));
    }
    let case = RequestCase::start();
    for (group, concurrent, n) in [
        ("request/sequential", false, 1),
        ("request/concurrent_32", true, CONCURRENCY as u64),
    ] {
        let mut contenders = case.contenders(concurrent);
        print_result(&report(group, Work::Elements(n), plan, &mut contenders));
    }
    let mut contenders = case.paged_contenders();
    print_result(&report(
        "request/paged_5x50",
        Work::Elements(PAGES),
        plan,
        &mut contenders,
    ));
}
