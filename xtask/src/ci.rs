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
    /// `cargo check -p PACKAGE --no-default-features`, then the same with
    /// each feature of the package alone (read from `cargo metadata`, so a
    /// new area is checked without editing this list), each without a
    /// warning.
    FeatureChecks {
        /// The package.
        package: &'static str,
        /// Features left out: ones that are no slice of the crate.
        skip: &'static [&'static str],
    },
    /// `cargo package` of every crate of [`PUBLISHED`], after removing
    /// what an earlier run unpacked from its local registry (see
    /// `forget_unpacked_packages`) and built from it (`cargo clean -p`).
    Package,
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
            Action::FeatureChecks { package, .. } => {
                format!("cargo check -p {package} --no-default-features [--features F, each F]")
            }
            Action::Package => {
                let mut parts = vec!["cargo"];
                parts.extend(PACKAGE_ARGS);
                parts.join(" ")
            }
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

/// The crates published to crates.io, in publish order (each after what
/// it depends on).
pub const PUBLISHED: &[&str] = &[
    "clickhouse-cloud-auth",
    "clickhouse-cloud-types",
    "clickhouse-cloud-transport",
    "clickhouse-cloud-client",
    "clickhouse-cloud-emulator",
    "clickhouse-cloud-cli",
];

/// `cargo package` of every crate of [`PUBLISHED`].
const PACKAGE_ARGS: &[&str] = &[
    "package",
    "--allow-dirty",
    "-p",
    "clickhouse-cloud-auth",
    "-p",
    "clickhouse-cloud-types",
    "-p",
    "clickhouse-cloud-transport",
    "-p",
    "clickhouse-cloud-client",
    "-p",
    "clickhouse-cloud-emulator",
    "-p",
    "clickhouse-cloud-cli",
];

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
        // A library author may build one area alone: each feature must
        // compile by itself, and so must none. `cargo check` of one crate
        // per feature, its dependencies already checked by clippy.
        Step {
            name: "features-types",
            action: Action::FeatureChecks {
                package: "clickhouse-cloud-types",
                // Not an area, and built by the workspace steps already.
                skip: &["schema"],
            },
        },
        Step {
            name: "features-client",
            action: Action::FeatureChecks {
                package: "clickhouse-cloud-client",
                skip: &[],
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
        // What `cargo publish` would upload, built from the tarballs: a file
        // left out of a package (a generated module, the emulator's
        // `examples.json`, a README a doc includes) fails here. The six
        // library crates in one command, so each finds the others as
        // packaged. All six are verified: with the target dir warm from
        // the test step that took 2 min 24 s here (types, emulator and cli
        // recompile their workspace dependencies from the tarballs);
        // `--allow-dirty` because CI checks the packages, not the checkout.
        // Last, because it first cleans the workspace's own crates (see
        // `Action::Package`), which no later step then has to rebuild.
        Step {
            name: "package",
            action: Action::Package,
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
            Action::FeatureChecks { package, skip } => {
                let features = package_features(root, package).map_err(fail)?;
                for set in feature_sets(&features, skip) {
                    check_features(root, package, set.as_deref()).map_err(fail)?;
                }
            }
            Action::Package => {
                forget_unpacked_packages().map_err(fail)?;
                // Cargo reuses what it compiled of a registry crate by name
                // and version, whatever the sources now hold: without this,
                // a second run verifies against the first run's build.
                let mut clean = vec!["clean"];
                clean.extend(PUBLISHED.iter().flat_map(|krate| ["-p", krate]));
                let status = workspace::cargo(root, &clean, &[])
                    .map_err(|e| fail(format!("cannot start cargo: {e}")))?;
                if !status.success() {
                    return Err(fail(status.to_string()));
                }
                let status = workspace::cargo(root, PACKAGE_ARGS, &[])
                    .map_err(|e| fail(format!("cannot start cargo: {e}")))?;
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

/// Removes the sources cargo unpacked from `cargo package`'s local
/// registry on an earlier run. Cargo unpacks a registry's crates under
/// `$CARGO_HOME/registry/src/<registry>/<name>-<version>` once and reuses
/// them while the name and version stay the same, so verifying a changed
/// crate of an unchanged version would build the old sources. Local
/// registries are the folders whose name starts with `-`; only this
/// workspace's published crates are removed from them.
fn forget_unpacked_packages() -> Result<(), String> {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")));
    match cargo_home {
        Some(home) => forget_unpacked_in(&home.join("registry").join("src")),
        None => Ok(()),
    }
}

/// [`forget_unpacked_packages`] in the registry sources folder `sources`.
fn forget_unpacked_in(sources: &Path) -> Result<(), String> {
    let Ok(registries) = std::fs::read_dir(sources) else {
        return Ok(());
    };
    for registry in registries.flatten() {
        if !registry.file_name().to_string_lossy().starts_with('-') {
            continue;
        }
        let Ok(unpacked) = std::fs::read_dir(registry.path()) else {
            continue;
        };
        for dir in unpacked.flatten() {
            let name = dir.file_name().to_string_lossy().into_owned();
            let ours = PUBLISHED.iter().any(|krate| {
                name.strip_prefix(krate)
                    .and_then(|rest| rest.strip_prefix('-'))
                    .is_some_and(|version| version.starts_with(|c: char| c.is_ascii_digit()))
            });
            if ours {
                std::fs::remove_dir_all(dir.path())
                    .map_err(|e| format!("cannot remove {}: {e}", dir.path().display()))?;
            }
        }
    }
    Ok(())
}

/// The features a workspace package declares (without `default`), from
/// `cargo metadata`.
pub fn package_features(root: &Path, package: &str) -> Result<Vec<String>, String> {
    let output = std::process::Command::new(workspace::cargo_program())
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(root)
        .output()
        .map_err(|e| format!("cannot start cargo metadata: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("cargo metadata printed no JSON: {e}"))?;
    features_in(&metadata, package)
}

/// `package`'s features in `cargo metadata` output, sorted, without
/// `default`.
fn features_in(metadata: &serde_json::Value, package: &str) -> Result<Vec<String>, String> {
    let found = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == package)
        .ok_or_else(|| format!("no package `{package}` in the workspace"))?;
    let mut features: Vec<String> = found["features"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, _)| name.clone())
        .filter(|name| name != "default")
        .collect();
    features.sort();
    Ok(features)
}

/// What to check: no feature (`None`), then each feature alone but `skip`.
fn feature_sets(features: &[String], skip: &[&str]) -> Vec<Option<String>> {
    std::iter::once(None)
        .chain(
            features
                .iter()
                .filter(|f| !skip.contains(&f.as_str()))
                .map(|f| Some(f.clone())),
        )
        .collect()
}

/// `cargo check -p PACKAGE --no-default-features [--features F]`; fails on
/// an error or a warning of the package.
fn check_features(root: &Path, package: &str, feature: Option<&str>) -> Result<(), String> {
    let mut args = vec!["check", "-p", package, "--no-default-features"];
    if let Some(f) = feature {
        args.extend(["--features", f]);
    }
    let shown = format!("cargo {}", args.join(" "));
    emit(&format!("    {shown}\n"));
    let output = std::process::Command::new(workspace::cargo_program())
        .args(&args)
        .current_dir(root)
        .output()
        .map_err(|e| format!("cannot start cargo: {e}"))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    let warned = stderr
        .lines()
        .any(|l| l.starts_with(&format!("warning: `{package}`")) && l.contains("generated"));
    if !output.status.success() || warned {
        emit(&stderr);
        return Err(format!("`{shown}` failed or warned"));
    }
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
    fn feature_checks_cover_none_then_each_feature_alone_from_the_manifest() {
        let metadata = serde_json::json!({"packages": [
            {"name": "other", "features": {"x": []}},
            {"name": "p", "features": {"default": ["b", "a"], "b": [], "a": [], "schema": []}},
        ]});
        let features = features_in(&metadata, "p").unwrap();
        assert_eq!(features, ["a", "b", "schema"]);
        assert_eq!(
            feature_sets(&features, &["schema"]),
            [None, Some("a".to_owned()), Some("b".to_owned())]
        );
        assert!(features_in(&metadata, "missing").is_err());
    }

    #[test]
    fn the_types_and_client_features_are_read_from_their_manifests() {
        let root = workspace::root();
        for package in ["clickhouse-cloud-types", "clickhouse-cloud-client"] {
            let features = package_features(&root, package).unwrap();
            assert!(
                features.contains(&"api-keys".to_owned()),
                "{package}: {features:?}"
            );
        }
        let steps = steps();
        let checked: Vec<&str> = steps
            .iter()
            .filter_map(|s| match s.action {
                Action::FeatureChecks { package, .. } => Some(package),
                _ => None,
            })
            .collect();
        assert_eq!(
            checked,
            ["clickhouse-cloud-types", "clickhouse-cloud-client"]
        );
    }

    #[test]
    fn only_our_crates_unpacked_from_local_registries_are_forgotten() {
        let sources = std::env::temp_dir().join(format!(
            "xtask-unpacked-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        let dirs = [
            ("-14cd1cce6819ff87", "clickhouse-cloud-types-0.1.0", false),
            ("-14cd1cce6819ff87", "clickhouse-cloud-cli-0.2.3", false),
            (
                "-14cd1cce6819ff87",
                "clickhouse-cloud-types-extra-0.1.0",
                true,
            ),
            ("-14cd1cce6819ff87", "serde-1.0.0", true),
            (
                "index.crates.io-1949cf8c6b5b557f",
                "clickhouse-cloud-types-0.1.0",
                true,
            ),
        ];
        for (registry, name, _) in dirs {
            std::fs::create_dir_all(sources.join(registry).join(name).join("src")).unwrap();
        }
        forget_unpacked_in(&sources).unwrap();
        for (registry, name, kept) in dirs {
            assert_eq!(
                sources.join(registry).join(name).exists(),
                kept,
                "{registry}/{name}"
            );
        }
        std::fs::remove_dir_all(&sources).unwrap();
        // A missing folder is nothing to forget.
        forget_unpacked_in(&sources).unwrap();
    }

    #[test]
    fn every_published_crate_is_packaged_and_no_other() {
        let packaged: Vec<&str> = PACKAGE_ARGS
            .windows(2)
            .filter(|pair| pair[0] == "-p")
            .map(|pair| pair[1])
            .collect();
        assert_eq!(packaged, PUBLISHED);
        let root = workspace::root();
        let text = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
        let manifest: toml::Table = toml::from_str(&text).unwrap();
        for krate in PUBLISHED {
            let path = root.join(format!("crates/{krate}/Cargo.toml"));
            let own: toml::Table = toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
            let package = own["package"].as_table().unwrap();
            assert_ne!(
                package.get("publish"),
                Some(&toml::Value::Boolean(false)),
                "{krate}"
            );
            for key in ["description", "keywords", "categories", "readme"] {
                assert!(package.contains_key(key), "{krate} has no `{key}`");
            }
        }
        assert!(manifest["workspace"]["package"].get("license").is_some());
        assert!(steps().iter().any(|s| s.name == "package"));
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
