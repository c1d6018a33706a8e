//! `cargo xtask`: project tasks. Run `cargo xtask help` for the list.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use xtask::check_spec;
use xtask::cli::{Args, Format, UsageError, emit, emit_err};
use xtask::spec::fetch::{self, FetchOptions};
use xtask::workspace;

const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  fetch-spec [--from PATH|URL] [--update]
      Put the pinned spec in specs/ (from --from, $CLICKHOUSE_CLOUD_SPEC,
      ../shared/specs/, or a download). --update accepts new content and
      rewrites specs/spec.pin.
  spec-diff OLD NEW [--format text|json] [--changelog]
      What changed between two spec files: operations, schemas,
      properties, types and formats, enum values, requiredness,
      nullability, deprecation. --changelog prints it for users instead,
      as a markdown section of CHANGELOG.md grouped by area.
  spec-upgrade [SPEC_FILE]
      Take a new spec (default: the newest snapshot of ../shared/specs)
      and absorb it: keep the old one in target/spec-upgrade/, rewrite
      the pin, print spec-diff and its changelog, prune overrides and
      exemptions that name what the spec no longer has, regenerate
      (codegen) and run check-spec. Prints what to review next.
  codegen [--check] [--spec PATH]
      Write the wire types and the operation table of
      clickhouse-cloud-types (src/generated/) from the pinned spec and
      xtask/codegen.toml. --check writes nothing and exits 1 when the
      committed files differ from what would be generated.
  check-spec [--spec PATH] [--format text|json] [--exemptions PATH]
             [--print-uncovered]
      Check the Rust types against the spec (the pinned one, fetched
      first, unless --spec). Exit 1 when there are findings.
      --print-uncovered prints a [not_yet_covered] section listing every
      spec operation and schema the SDK does not cover.
  conformance [--cassettes DIR] [--fail-on-drift] [--verbose]
      Replay every cassette (default: conformance/cassettes) through the
      client, validating each response against the pinned spec (fetched
      first). One line per failure (FAIL) or drift (DRIFT: a recording
      ahead of the pin, such as an enum value it lacks), then
      `N passed, M failed, D drifted`; exit 1 on any failure, and on drift
      with --fail-on-drift (as `ci` runs it).
  record [--live] [--out DIR]
      Run the scripted scenarios against an in-process emulator (or, with
      --live, the service named by CLICKHOUSE_CLOUD_API_KEY/_SECRET,
      CLICKHOUSE_ORG_ID, CLICKHOUSE_API_URL) and write scrubbed cassettes
      (default: conformance/cassettes).
  ci [--list]
      Run the CI steps in order, stopping at the first failure: fetch-spec,
      cargo fmt --check, clippy, tests, the quickstart, cargo doc, conformance,
      check-spec. --list prints them.
  bench-report [--quick] [--skip-footprint] [--no-official]
      Run the benchmarks of benches/ (criterion, a rate-limited run, and
      cold builds of one-crate programs) and write benches/REPORT.md.
      --quick: short criterion runs, cold builds of the target pair only.
      --skip-footprint: no dependency counts or cold builds.
      --no-official: leave out the official clickhouse-cloud-api crate.
  help
      This text.

exit status: 0 success, 1 failure or findings, 2 usage or load error";

/// A command's failure: what to print and the exit status.
enum Failure {
    Usage(UsageError),
    Error(String),
}

impl<E: std::error::Error> From<E> for Failure {
    fn from(error: E) -> Self {
        Failure::Error(error.to_string())
    }
}

fn main() -> ExitCode {
    let args: Result<Vec<String>, _> = std::env::args_os()
        .skip(1)
        .map(|a| a.into_string())
        .collect();
    let Ok(args) = args else {
        emit_err("error: the arguments must be valid UTF-8\n");
        return ExitCode::from(2);
    };
    let mut args = args.into_iter();
    let command = args.next().unwrap_or_default();
    let args = Args::new(args);
    let result = match command.as_str() {
        "fetch-spec" => fetch_spec(args),
        "spec-diff" => spec_diff(args),
        "spec-upgrade" => spec_upgrade(args),
        "codegen" => codegen(args),
        "check-spec" => check_spec(args),
        "conformance" => conformance(args),
        "record" => record(args),
        "ci" => ci(args),
        "bench-report" => bench_report(args),
        "help" | "--help" | "-h" => {
            emit(&format!("{USAGE}\n"));
            Ok(ExitCode::SUCCESS)
        }
        "" => Err(Failure::Usage(UsageError("no command given".into()))),
        other => Err(Failure::Usage(UsageError(format!(
            "unknown command `{other}`"
        )))),
    };
    match result {
        Ok(code) => code,
        Err(Failure::Usage(error)) => {
            emit_err(&format!("error: {error}\n\n{USAGE}\n"));
            ExitCode::from(2)
        }
        Err(Failure::Error(message)) => {
            emit_err(&format!("error: {message}\n"));
            ExitCode::from(2)
        }
    }
}

fn fetch_spec(mut args: Args) -> Result<ExitCode, Failure> {
    let options = FetchOptions {
        from: args.value("--from").map_err(Failure::Usage)?,
        update: args.flag("--update"),
    };
    args.finish().map_err(Failure::Usage)?;
    let root = workspace::root();
    let fetched = fetch::fetch_spec(&root, &options)?;
    let path = workspace::display(&root, &fetched.path);
    emit(&match &fetched.source {
        None => format!(
            "{path}: already the pinned spec (sha256 {})\n",
            fetched.sha256
        ),
        Some(source) => format!("{path}: copied from {source} (sha256 {})\n", fetched.sha256),
    });
    if fetched.pin_updated {
        emit(&format!(
            "{}: updated; next: `cargo xtask spec-diff OLD {path}` and `cargo xtask check-spec`\n",
            workspace::display(&root, &workspace::pin_file(&root))
        ));
    }
    Ok(ExitCode::SUCCESS)
}

fn spec_diff(mut args: Args) -> Result<ExitCode, Failure> {
    let changelog = args.flag("--changelog");
    let format = args.format().map_err(Failure::Usage)?;
    let files = args.positionals(2).map_err(Failure::Usage)?;
    let old = xtask::spec::load_model(Path::new(&files[0]))?;
    let new = xtask::spec::load_model(Path::new(&files[1]))?;
    let diff = xtask::spec_diff::diff(&old, &new);
    if changelog {
        let areas = |file: &str| xtask::spec_diff::changelog::Areas::read(Path::new(file));
        emit(&diff.to_changelog(&areas(&files[0])?, &areas(&files[1])?));
        return Ok(ExitCode::SUCCESS);
    }
    match format {
        Format::Text => emit(&diff.to_text(&files[0], &files[1])),
        Format::Json => emit(&format!("{:#}\n", diff.to_json(&files[0], &files[1]))),
    }
    Ok(ExitCode::SUCCESS)
}

fn spec_upgrade(args: Args) -> Result<ExitCode, Failure> {
    let spec = match args.clone().positionals(1) {
        Ok(mut files) => files.pop(),
        Err(_) => {
            args.finish().map_err(Failure::Usage)?;
            None
        }
    };
    let options = xtask::spec_upgrade::Options { spec };
    let root = workspace::root();
    let layout = fetch::Layout::for_root(&root);
    xtask::spec_upgrade::absorb(&root, &layout, &options, &mut |line| emit(line))?;
    emit("\n");
    let stopped = |error: String| {
        Failure::Error(format!(
            "spec-upgrade: the spec, pin, overrides, exemptions and generated files are updated, \
             but check-spec could not run: {error}\n(fix what it says, then run `cargo xtask check-spec`)"
        ))
    };
    let outcome = check_spec::run(
        &root,
        &check_spec::Options {
            spec: None,
            exemptions: None,
            format: Format::Text,
            print_uncovered: false,
        },
    )
    .map_err(|e| stopped(e.to_string()))?;
    emit(&outcome.output);
    if !outcome.report.findings.is_empty() {
        emit(
            "\nspec-upgrade: check-spec has findings (above). The spec, pin, overrides, exemptions \
             and generated files are updated and left as they are: fix the findings (or record a \
             reviewed deviation), then run `cargo xtask check-spec` again.\n",
        );
        return Ok(ExitCode::from(1));
    }
    emit(&format!("\n{}", xtask::spec_upgrade::NEXT_STEPS));
    Ok(ExitCode::SUCCESS)
}

fn codegen(mut args: Args) -> Result<ExitCode, Failure> {
    let options = xtask::codegen::Options {
        check: args.flag("--check"),
        spec: args
            .value("--spec")
            .map_err(Failure::Usage)?
            .map(PathBuf::from),
    };
    args.finish().map_err(Failure::Usage)?;
    let outcome = xtask::codegen::run(&workspace::root(), &options)?;
    let verb = if options.check { "differs" } else { "written" };
    for file in &outcome.changed {
        emit(&format!("{file}: {verb}\n"));
    }
    let verb = if options.check {
        "should be removed"
    } else {
        "removed"
    };
    for file in &outcome.removed {
        emit(&format!("{file}: {verb}\n"));
    }
    let stale = outcome.changed.len() + outcome.removed.len();
    emit(&format!(
        "codegen: {} files, {}; {}\n",
        outcome.files,
        outcome.summary,
        match (options.check, stale) {
            (true, 0) => "up to date".to_owned(),
            (true, n) => format!("{n} stale (run `cargo xtask codegen`)"),
            (false, 0) => "nothing changed".to_owned(),
            (false, n) => format!("{n} changed"),
        }
    ));
    Ok(if options.check && stale > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn check_spec(mut args: Args) -> Result<ExitCode, Failure> {
    let options = check_spec::Options {
        spec: args
            .value("--spec")
            .map_err(Failure::Usage)?
            .map(PathBuf::from),
        exemptions: args
            .value("--exemptions")
            .map_err(Failure::Usage)?
            .map(PathBuf::from),
        format: args.format().map_err(Failure::Usage)?,
        print_uncovered: args.flag("--print-uncovered"),
    };
    args.finish().map_err(Failure::Usage)?;
    let outcome = check_spec::run(&workspace::root(), &options)?;
    emit(&outcome.output);
    Ok(
        if outcome.report.findings.is_empty() || options.print_uncovered {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        },
    )
}

fn bench_report(mut args: Args) -> Result<ExitCode, Failure> {
    let options = xtask::bench_report::Options {
        quick: args.flag("--quick"),
        skip_footprint: args.flag("--skip-footprint"),
        no_official: args.flag("--no-official"),
    };
    args.finish().map_err(Failure::Usage)?;
    let root = workspace::root();
    let results = xtask::bench_report::run(&root, &options)?;
    let verdicts = results.verdicts();
    for verdict in &verdicts {
        let status = match verdict.met {
            Some(true) => "met",
            Some(false) => "MISSED",
            None => "not measured",
        };
        emit(&format!(
            "{status:<12} {} ({})\n",
            verdict.target, verdict.measured
        ));
    }
    emit(&format!(
        "{}: written\n",
        workspace::display(&root, &root.join("benches/REPORT.md"))
    ));
    Ok(ExitCode::SUCCESS)
}

fn conformance(mut args: Args) -> Result<ExitCode, Failure> {
    let options = xtask::suite::ConformanceOptions {
        cassettes: args
            .value("--cassettes")
            .map_err(Failure::Usage)?
            .map(PathBuf::from),
        fail_on_drift: args.flag("--fail-on-drift"),
        verbose: args.flag("--verbose"),
    };
    args.finish().map_err(Failure::Usage)?;
    let status = xtask::suite::conformance(&workspace::root(), &options)?;
    Ok(exit_code(status))
}

fn record(mut args: Args) -> Result<ExitCode, Failure> {
    let options = xtask::suite::RecordOptions {
        live: args.flag("--live"),
        out: args
            .value("--out")
            .map_err(Failure::Usage)?
            .map(PathBuf::from),
    };
    args.finish().map_err(Failure::Usage)?;
    let status = xtask::suite::record(&workspace::root(), &options)?;
    Ok(exit_code(status))
}

/// A child's exit status as ours: its code when it has one, else 1.
fn exit_code(status: std::process::ExitStatus) -> ExitCode {
    match status.code() {
        Some(0) => ExitCode::SUCCESS,
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => ExitCode::from(1),
    }
}

fn ci(mut args: Args) -> Result<ExitCode, Failure> {
    let list = args.flag("--list");
    args.finish().map_err(Failure::Usage)?;
    let steps = xtask::ci::steps();
    if list {
        for step in &steps {
            emit(&format!("{:<24} {}\n", step.name, step.command_line()));
        }
        return Ok(ExitCode::SUCCESS);
    }
    match xtask::ci::run(&workspace::root(), &steps) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(error) => {
            emit_err(&format!("{error}\n"));
            Ok(ExitCode::from(1))
        }
    }
}
