//! `cargo xtask ci`: the CI steps, in order, stopping at the first failure.
//!
//! The steps are a plain list ([`steps`]); adding one (a conformance run,
//! say) is adding an entry.

use std::path::Path;

use crate::check_spec;
use crate::cli::{Format, emit};
use crate::spec::fetch::{FetchOptions, fetch_spec};
use crate::suite;
use crate::workspace;

/// What a step does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `cargo xtask fetch-spec`, in process.
    FetchSpec,
    /// `cargo xtask check-spec`, in process.
    CheckSpec,
    /// `cargo xtask codegen --check`, in process: the generated files are
    /// what the pinned spec and the overrides give.
    CodegenCheck,
    /// `cargo xtask conformance --fail-on-drift`: every cassette replayed
    /// through the client; the suite's own cassettes declare every known
    /// drift (`schemaDeviations`), so any other fails.
    Conformance,
    /// `cargo ARGS...` in the workspace root, with extra environment.
    Cargo {
        /// Arguments after `cargo`.
        args: &'static [&'static str],
        /// Extra environment variables.
        env: &'static [(&'static str, &'static str)],
    },
}

/// One CI step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Short name, for messages.
    pub name: &'static str,
    /// What it runs.
    pub action: Action,
}

impl Step {
    /// The command as a person would type it.
    pub fn command_line(&self) -> String {
        match &self.action {
            Action::FetchSpec => "cargo xtask fetch-spec".into(),
            Action::CheckSpec => "cargo xtask check-spec".into(),
            Action::CodegenCheck => "cargo xtask codegen --check".into(),
            Action::Conformance => "cargo xtask conformance --fail-on-drift".into(),
            Action::Cargo { args, env } => {
                let mut parts: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
                parts.push("cargo".into());
                parts.extend(args.iter().map(|a| (*a).to_owned()));
                parts.join(" ")
            }
        }
    }
}

/// Environment of the test steps: snapshots are checked, never written.
const TEST_ENV: &[(&str, &str)] = &[("INSTA_UPDATE", "no"), ("CI", "true")];

/// The CI steps, in order.
pub fn steps() -> Vec<Step> {
    vec![
        Step {
            name: "fetch-spec",
            action: Action::FetchSpec,
        },
        Step {
            name: "fmt",
            action: Action::Cargo {
                args: &["fmt", "--all", "--", "--check"],
                env: &[],
            },
        },
        Step {
            name: "codegen",
            action: Action::CodegenCheck,
        },
        Step {
            name: "clippy",
            action: Action::Cargo {
                args: &[
                    "clippy",
                    "--workspace",
                    "--all-targets",
                    "--",
                    "-D",
                    "warnings",
                ],
                env: &[],
            },
        },
        // The workspace build turns on the types crate's `schema` feature
        // (for xtask-inventory); a library author's plain build is this one.
        Step {
            name: "clippy-types-default",
            action: Action::Cargo {
                args: &[
                    "clippy",
                    "-p",
                    "clickhouse-cloud-types",
                    "--all-targets",
                    "--",
                    "-D",
                    "warnings",
                ],
                env: &[],
            },
        },
        Step {
            name: "test",
            action: Action::Cargo {
                args: &["test", "--workspace"],
                env: TEST_ENV,
            },
        },
        Step {
            name: "test-types-default",
            action: Action::Cargo {
                args: &["test", "-p", "clickhouse-cloud-types"],
                env: TEST_ENV,
            },
        },
        // The quickstart must run the whole console flow and exit 0; the
        // empty credentials make it start its own emulator.
        Step {
            name: "example",
            action: Action::Cargo {
                args: &[
                    "run",
                    "--quiet",
                    "-p",
                    "clickhouse-cloud-client",
                    "--example",
                    "api_keys",
                ],
                env: &[
                    ("CLICKHOUSE_CLOUD_API_KEY", ""),
                    ("CLICKHOUSE_CLOUD_API_SECRET", ""),
                ],
            },
        },
        // Broken intra-doc links and the like fail here, not on docs.rs.
        Step {
            name: "doc",
            action: Action::Cargo {
                args: &["doc", "--workspace", "--no-deps"],
                env: &[("RUSTDOCFLAGS", "-D warnings")],
            },
        },
        Step {
            name: "conformance",
            action: Action::Conformance,
        },
        Step {
            name: "check-spec",
            action: Action::CheckSpec,
        },
    ]
}

/// Why CI stopped.
#[derive(Debug, thiserror::Error)]
#[error("ci: step `{name}` failed: {message}\n    command: {command}")]
pub struct CiError {
    /// The step.
    pub name: &'static str,
    /// Its command line.
    pub command: String,
    /// What happened.
    pub message: String,
}

/// Runs `steps` in the workspace at `root`, printing each command first.
pub fn run(root: &Path, steps: &[Step]) -> Result<(), CiError> {
    let total = steps.len();
    let started = std::time::Instant::now();
    let mut took = Vec::with_capacity(total);
    for (index, step) in steps.iter().enumerate() {
        let command = step.command_line();
        emit(&format!("==> [{}/{total}] {command}\n", index + 1));
        let step_started = std::time::Instant::now();
        let fail = |message: String| CiError {
            name: step.name,
            command: command.clone(),
            message,
        };
        match &step.action {
            Action::FetchSpec => {
                let fetched =
                    fetch_spec(root, &FetchOptions::default()).map_err(|e| fail(e.to_string()))?;
                emit(&format!(
                    "{} (sha256 {})\n",
                    workspace::display(root, &fetched.path),
                    fetched.sha256
                ));
            }
            Action::CodegenCheck => {
                let options = crate::codegen::Options {
                    check: true,
                    spec: None,
                };
                let outcome =
                    crate::codegen::run(root, &options).map_err(|e| fail(e.to_string()))?;
                let stale: Vec<&String> = outcome.changed.iter().chain(&outcome.removed).collect();
                if !stale.is_empty() {
                    return Err(fail(format!(
                        "{} generated file(s) differ from what the spec gives (run `cargo xtask codegen`): {}",
                        stale.len(),
                        stale
                            .iter()
                            .take(5)
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
                emit(&format!("codegen: {}; up to date\n", outcome.summary));
            }
            Action::CheckSpec => {
                let options = check_spec::Options {
                    spec: None,
                    exemptions: None,
                    format: Format::Text,
                    print_uncovered: false,
                };
                let outcome = check_spec::run(root, &options).map_err(|e| fail(e.to_string()))?;
                emit(&outcome.output);
                if !outcome.report.findings.is_empty() {
                    return Err(fail(outcome.report.summary()));
                }
            }
            Action::Conformance => {
                let options = suite::ConformanceOptions {
                    fail_on_drift: true,
                    ..Default::default()
                };
                let status = suite::conformance(root, &options).map_err(|e| fail(e.to_string()))?;
                if !status.success() {
                    return Err(fail(status.to_string()));
                }
            }
            Action::Cargo { args, env } => {
                let status = workspace::cargo(root, *args, env)
                    .map_err(|e| fail(format!("cannot start cargo: {e}")))?;
                if !status.success() {
                    return Err(fail(status.to_string()));
                }
            }
        }
        took.push((step.name, step_started.elapsed()));
    }
    emit(&timings(&took, started.elapsed()));
    emit(&format!("ci: all {total} steps passed\n"));
    Ok(())
}

/// `ci: took 612 s: fetch-spec 1 s, fmt 2 s, ...`: where the time went.
fn timings(took: &[(&str, std::time::Duration)], total: std::time::Duration) -> String {
    let steps: Vec<String> = took
        .iter()
        .map(|(name, elapsed)| format!("{name} {} s", elapsed.as_secs()))
        .collect();
    format!("ci: took {} s: {}\n", total.as_secs(), steps.join(", "))
}

#[cfg(test)]
mod tests {
    #[test]
    fn timings_name_every_step_in_order() {
        use std::time::Duration;
        let line = super::timings(
            &[
                ("fmt", Duration::from_millis(2_400)),
                ("test", Duration::from_secs(300)),
            ],
            Duration::from_secs(303),
        );
        assert_eq!(line, "ci: took 303 s: fmt 2 s, test 300 s\n");
    }

    use super::*;

    #[test]
    fn spec_is_fetched_first_and_checked_after_the_tests() {
        let names: Vec<&str> = steps().iter().map(|s| s.name).collect();
        let at = |name: &str| names.iter().position(|n| *n == name).unwrap();
        assert_eq!(names[0], "fetch-spec");
        assert!(at("fmt") < at("clippy") && at("clippy") < at("test"));
        assert!(at("test") < at("check-spec"));
        assert!(at("test") < at("conformance"));
    }

    #[test]
    fn test_steps_never_write_snapshots() {
        for step in steps() {
            if let Action::Cargo { args, env } = step.action
                && args.first() == Some(&"test")
            {
                assert!(env.contains(&("INSTA_UPDATE", "no")), "{}", step.name);
            }
        }
    }

    #[test]
    fn a_failing_step_stops_the_run() {
        let steps = [
            Step {
                name: "bad",
                action: Action::Cargo {
                    args: &["no-such-cargo-subcommand-xtask-test"],
                    env: &[],
                },
            },
            Step {
                name: "never",
                action: Action::FetchSpec,
            },
        ];
        let error = run(&workspace::root(), &steps).unwrap_err();
        assert_eq!(error.name, "bad");
        assert!(
            error
                .to_string()
                .contains("cargo no-such-cargo-subcommand-xtask-test")
        );
    }
}
