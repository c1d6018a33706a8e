//! `conformance [--cassettes DIR] [--spec FILE] [--fail-on-drift] [--verbose]`:
//! replays every cassette through the client and checks it against the spec.
//! Prints one line per problem, then `N passed, M failed, D drifted`; exits 1
//! on any failure (and on drift with `--fail-on-drift`).

use std::path::PathBuf;
use std::process::ExitCode;

use clickhouse_cloud_conformance::runner::Runner;
use clickhouse_cloud_conformance::spec::Spec;
use clickhouse_cloud_conformance::{default_cassette_dir, workspace_root};

const USAGE: &str =
    "usage: conformance [--cassettes DIR] [--spec FILE] [--fail-on-drift] [--verbose]

Replays every cassette (*.json under DIR, default conformance/cassettes)
through the client, validates each response body against the OpenAPI spec
(default: where `cargo xtask fetch-spec` puts the pinned one), prints one
line per problem (FAIL: the client or a recording that breaks the spec;
DRIFT: a recording ahead of the pinned spec, such as an enum value or a
field it lacks) and a closing `N passed, M failed, D drifted`. Exits 1 when
anything failed, or drifted with --fail-on-drift.";

struct Args {
    cassettes: PathBuf,
    spec: Option<PathBuf>,
    fail_on_drift: bool,
    verbose: bool,
}

fn parse_args() -> Result<Option<Args>, String> {
    let mut args = Args {
        cassettes: default_cassette_dir(),
        spec: None,
        fail_on_drift: false,
        verbose: false,
    };
    let mut raw = std::env::args_os().skip(1);
    while let Some(arg) = raw.next() {
        let arg = arg
            .into_string()
            .map_err(|arg| format!("argument is not UTF-8: {arg:?}"))?;
        let mut value = |name: &str| {
            raw.next()
                .map(PathBuf::from)
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--cassettes" => args.cassettes = value("--cassettes")?,
            "--spec" => args.spec = Some(value("--spec")?),
            "--fail-on-drift" => args.fail_on_drift = true,
            "-v" | "--verbose" => args.verbose = true,
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Some(args))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("conformance: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let spec = match &args.spec {
        Some(path) => Spec::load(path),
        None => Spec::load_pinned(&workspace_root()),
    };
    let spec = match spec {
        Ok(spec) => spec,
        Err(error) => {
            eprintln!("conformance: {error}");
            return ExitCode::from(2);
        }
    };
    let runner = match Runner::new(Some(spec)) {
        Ok(runner) => runner,
        Err(error) => {
            eprintln!("conformance: no runtime: {error}");
            return ExitCode::from(2);
        }
    };
    let summary = match runner.run_dir(&args.cassettes) {
        Ok(summary) => summary,
        Err(error) => {
            eprintln!("conformance: {}: {error}", args.cassettes.display());
            return ExitCode::from(2);
        }
    };
    if summary.reports.is_empty() {
        eprintln!(
            "conformance: no cassettes (*.json) under {}",
            args.cassettes.display()
        );
        return ExitCode::from(2);
    }
    for report in &summary.reports {
        if args.verbose {
            if report.passed() {
                println!("ok   {}", report.file);
            }
            for note in &report.notes {
                println!("note {}: {note}", report.file);
            }
        }
        for failure in &report.failures {
            println!("FAIL {failure}");
        }
        for drift in &report.drift {
            println!("DRIFT {drift}");
        }
    }
    println!("{}", summary.closing_line());
    if summary.failed() > 0 || (args.fail_on_drift && summary.drifted() > 0) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
