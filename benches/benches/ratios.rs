//! The comparisons of the `decode` and `request` benches again, measured
//! interleaved ([`clickhouse_cloud_benches::paired`]): the contenders take
//! turns round after round, so a burst of load on a shared machine hits
//! both sides of a ratio alike. Prints one JSON line per comparison with
//! every round's time per iteration; `cargo xtask bench-report` takes the
//! median of the per-round ratios.
//!
//! `cargo bench -p clickhouse-cloud-benches --features official --bench ratios [-- --quick]`

use std::time::Duration;

use clickhouse_cloud_benches::cases::{CONCURRENCY, PAGES, RequestCase, decode_cases};
use clickhouse_cloud_benches::paired::{Plan, Work, report};
use clickhouse_cloud_benches::print_result;
use clickhouse_cloud_benches::startup::{Case, Startup};

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
    startup(plan);
}

/// Whole-process start-up, when a second program is given to compare
/// `chc` with (`CHC_BEFORE_GENERATED_BIN`, `CLICKHOUSECTL_BIN`). A run
/// takes milliseconds, so a turn is longer than the others' to hold a few.
fn startup(plan: Plan) {
    let wanted = ["CHC_BEFORE_GENERATED_BIN", "CLICKHOUSECTL_BIN"]
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()));
    if !wanted {
        return;
    }
    let startup = match Startup::start() {
        Ok(startup) => startup,
        Err(error) => {
            eprintln!("ratios: start-up comparison: {error}");
            std::process::exit(1);
        }
    };
    let plan = Plan {
        rounds: plan.rounds.max(21),
        sample: plan.sample.max(Duration::from_millis(150)),
    };
    for case in Case::ALL {
        let mut contenders = startup.contenders(case);
        if contenders.len() > 1 {
            print_result(&report(
                case.group(),
                Work::Elements(1),
                plan,
                &mut contenders,
            ));
        }
    }
}
