//! `cargo xtask bench-report`: runs the benchmarks of `benches/` and writes
//! `benches/REPORT.md`, with each figure, each ratio against its target, the
//! machine, and the command that reproduces it.
//!
//! The criterion benches (`auth`, `decode`, `request`, `emulator`) write
//! their estimates under `CRITERION_HOME`, which is read back here; the
//! seconds-long `rate_limited` bench prints JSON lines. The footprint part
//! builds one tiny program per crate in a fresh target directory each and
//! times `cargo build` (debug profile).
//!
//! Nothing here knows what the results should be: every figure comes from a
//! run, and a target is judged only against what was measured.

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::cli::emit_err;

/// The official crate compared against, as pinned in `benches/Cargo.toml`.
pub const OFFICIAL_CRATE: &str = "clickhouse-cloud-api";
/// Its pinned version.
pub const OFFICIAL_VERSION: &str = "0.5.0";

/// The commit whose `chc` is the start-up bench's baseline: the tree just
/// before `chc` gained a command per operation, generated from the
/// operation table.
pub const STARTUP_BASELINE: &str = "353e6b333aa7e426cdf32cab23431d3ad9923b8b";

/// What `bench-report` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Options {
    /// Criterion's quick settings (1 s warm-up, 2 s measurement, 10
    /// samples) and cold builds of the target pair only (the types crate and
    /// the official crate).
    pub quick: bool,
    /// Leaves out dependency counts and cold builds.
    pub skip_footprint: bool,
    /// Leaves out the official crate (the `official` feature of the benches).
    pub no_official: bool,
}

impl Options {
    /// The command line that reproduces a run with these options.
    pub fn command_line(&self) -> String {
        let mut line = String::from("cargo xtask bench-report");
        for (on, flag) in [
            (self.quick, " --quick"),
            (self.skip_footprint, " --skip-footprint"),
            (self.no_official, " --no-official"),
        ] {
            if on {
                line.push_str(flag);
            }
        }
        line
    }
}

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or process could not be used.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The cause.
        source: io::Error,
    },
    /// A command ran and failed.
    #[error("`{command}` failed: {status}")]
    Command {
        /// The command line.
        command: String,
        /// How it ended.
        status: String,
    },
    /// Output that could not be understood.
    #[error("{0}")]
    Parse(String),
}

fn io_error(what: impl Into<String>) -> impl FnOnce(io::Error) -> Error {
    let what = what.into();
    move |source| Error::Io { what, source }
}

/// The machine a report was measured on.
#[derive(Debug, Clone, PartialEq)]
pub struct Machine {
    /// Logical CPUs available.
    pub cpus: usize,
    /// `model name` from `/proc/cpuinfo`.
    pub cpu_model: String,
    /// `rustc -V`.
    pub rustc: String,
    /// `/proc/loadavg` when the run started (the machine may be shared).
    pub load_average: String,
    /// UTC date of the run, `YYYY-MM-DD`.
    pub date: String,
}

/// How much work one iteration of a criterion bench does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throughput {
    /// Bytes of input.
    Bytes(u64),
    /// Operations (requests, headers...).
    Elements(u64),
}

/// One criterion estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// Group, e.g. `decode/keys_1000`.
    pub group: String,
    /// Function in the group, e.g. `official`.
    pub function: String,
    /// Median time per iteration, nanoseconds.
    pub median_ns: f64,
    /// Bounds of the median's 95 % confidence interval, nanoseconds.
    pub median_ci_ns: (f64, f64),
    /// Work per iteration.
    pub throughput: Option<Throughput>,
}

impl Estimate {
    /// Units of work per second (bytes or elements).
    pub fn per_second(&self) -> Option<f64> {
        let units = match self.throughput? {
            Throughput::Bytes(n) | Throughput::Elements(n) => n as f64,
        };
        Some(units / (self.median_ns * 1e-9))
    }
}

/// One run of the `rate_limited` bench.
#[derive(Debug, Clone, PartialEq)]
pub struct RateRun {
    /// Whether the client's own limiter was on.
    pub client_limiter: bool,
    /// Requests made.
    pub requests: u64,
    /// Tasks making them.
    pub tasks: u64,
    /// The emulator's limit per window.
    pub limit: u64,
    /// The window, seconds.
    pub window_s: f64,
    /// Wall time for all of them, seconds.
    pub elapsed_s: f64,
    /// The least time the limit allows, seconds.
    pub minimum_s: f64,
    /// Requests that went over the wire, retries included.
    pub sent: u64,
    /// `429` responses seen on the wire.
    pub status_429: u64,
    /// Calls that failed in the end.
    pub failed: u64,
}

/// One interleaved comparison of the `ratios` bench: per contender, the
/// time per iteration of every round.
#[derive(Debug, Clone, PartialEq)]
pub struct Paired {
    /// Group, as in criterion, e.g. `decode/keys_1000`.
    pub group: String,
    /// Per contender, nanoseconds per iteration, one value per round.
    pub times_ns: Vec<(String, Vec<f64>)>,
}

impl Paired {
    fn times(&self, name: &str) -> Option<&[f64]> {
        self.times_ns
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.as_slice())
    }

    /// The median time per iteration of `name`, ns.
    pub fn median(&self, name: &str) -> Option<f64> {
        quartiles(self.times(name)?.to_vec()).map(|[_, median, _]| median)
    }

    /// The median of the per-round differences `time(a) - time(b)`, ns.
    pub fn difference(&self, a: &str, b: &str) -> Option<f64> {
        let differences = self
            .times(a)?
            .iter()
            .zip(self.times(b)?)
            .map(|(x, y)| x - y)
            .collect();
        quartiles(differences).map(|[_, median, _]| median)
    }

    /// Quartiles (first, median, third) of the per-round ratios
    /// `time(a) / time(b)`.
    pub fn ratio(&self, a: &str, b: &str) -> Option<[f64; 3]> {
        let ratios: Vec<f64> = self
            .times(a)?
            .iter()
            .zip(self.times(b)?)
            .filter(|(_, y)| **y > 0.0)
            .map(|(x, y)| x / y)
            .collect();
        quartiles(ratios)
    }
}

/// First quartile, median and third quartile (nearest rank, the quartiles
/// rounded outwards).
pub fn quartiles(mut values: Vec<f64>) -> Option<[f64; 3]> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let last = (values.len() - 1) as f64;
    Some([
        values[(last * 0.25).floor() as usize],
        values[(last * 0.5).round() as usize],
        values[(last * 0.75).ceil() as usize],
    ])
}

/// The `paired` JSON lines of the `ratios` bench.
pub fn parse_paired(output: &str) -> Vec<Paired> {
    output
        .lines()
        .filter(|line| line.starts_with('{'))
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|value| value["bench"] == "paired")
        .filter_map(|v| {
            let times_ns = v["times_ns"]
                .as_object()?
                .iter()
                .map(|(name, times)| {
                    let times: Option<Vec<f64>> =
                        times.as_array()?.iter().map(Value::as_f64).collect();
                    Some((name.clone(), times?))
                })
                .collect::<Option<Vec<_>>>()?;
            Some(Paired {
                group: v["group"].as_str()?.to_owned(),
                times_ns,
            })
        })
        .collect()
}

/// Dependencies and cold build time of one crate.
#[derive(Debug, Clone, PartialEq)]
pub struct Footprint {
    /// The crate.
    pub name: String,
    /// Whether it is ours (a path dependency) or the official one.
    pub ours: bool,
    /// The one feature it was built with (default features off), or
    /// `None` for its default features.
    pub only: Option<String>,
    /// Distinct packages in `cargo tree -e normal`, the crate itself excluded.
    pub dependencies: usize,
    /// Seconds for a cold `cargo build` (debug) of a program using only it;
    /// `None` when not built in this run.
    pub cold_build_s: Option<f64>,
}

/// Everything measured by one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Results {
    /// What ran.
    pub options: Options,
    /// Where.
    pub machine: Machine,
    /// Criterion estimates.
    pub estimates: Vec<Estimate>,
    /// Interleaved comparisons (the source of the ratios).
    pub paired: Vec<Paired>,
    /// Rate-limited runs.
    pub rate_runs: Vec<RateRun>,
    /// Footprints (empty with `--skip-footprint`).
    pub footprint: Vec<Footprint>,
    /// What the start-up bench compared `chc` with.
    pub startup: StartupPrograms,
}

/// The programs of the start-up bench besides `chc` of this tree.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StartupPrograms {
    /// The commit the older `chc` was built from, when it was.
    pub before_generated: Option<String>,
    /// `clickhousectl --version`, when one was found.
    pub clickhousectl: Option<String>,
}

/// Runs everything and writes `benches/REPORT.md` under `root`; returns
/// what was measured.
pub fn run(root: &Path, options: &Options) -> Result<Results, Error> {
    let machine = machine()?;
    let target = target_dir(root);
    let work = target.join("bench-report");
    let criterion_home = work.join("criterion");
    if criterion_home.exists() {
        std::fs::remove_dir_all(&criterion_home)
            .map_err(io_error(format!("removing {}", criterion_home.display())))?;
    }

    let (startup_env, startup) = startup_programs(root, &target, &work)?;
    let startup_env: Vec<(&str, &Path)> = startup_env
        .iter()
        .map(|(key, path)| (*key, path.as_path()))
        .collect();

    let mut bench = vec!["bench", "-p", "clickhouse-cloud-benches"];
    if !options.no_official {
        bench.extend(["--features", "official"]);
    }
    let mut criterion = bench.clone();
    for name in ["auth", "decode", "request", "emulator", "startup"] {
        criterion.extend(["--bench", name]);
    }
    criterion.push("--");
    if options.quick {
        criterion.extend([
            "--warm-up-time",
            "1",
            "--measurement-time",
            "2",
            "--sample-size",
            "10",
        ]);
    }
    progress(&format!("criterion benches: cargo {}", criterion.join(" ")));
    let mut criterion_env = startup_env.clone();
    criterion_env.push(("CRITERION_HOME", &criterion_home));
    cargo(root, &criterion, &criterion_env, false)?;
    let estimates = read_criterion(&criterion_home)?;

    let mut measured = bench;
    measured.extend(["--bench", "ratios", "--bench", "rate_limited", "--"]);
    if options.quick {
        measured.push("--quick");
    }
    progress(&format!(
        "interleaved ratios and rate-limited runs: cargo {}",
        measured.join(" ")
    ));
    let output = cargo(root, &measured, &startup_env, true)?;
    let paired = parse_paired(&output);
    let rate_runs = parse_rate_runs(&output)?;

    let footprint = if options.skip_footprint {
        Vec::new()
    } else {
        footprints(root, &work.join("probes"), options)?
    };

    let results = Results {
        options: *options,
        machine,
        estimates,
        paired,
        rate_runs,
        footprint,
        startup,
    };
    let path = root.join("benches/REPORT.md");
    std::fs::write(&path, render(&results))
        .map_err(io_error(format!("writing {}", path.display())))?;
    Ok(results)
}

/// Environment variables naming the start-up bench's programs.
type StartupEnv = Vec<(&'static str, PathBuf)>;

/// Builds `chc` of this tree (release) and, when the commit is in this
/// clone's history, `chc` of [`STARTUP_BASELINE`]; finds `clickhousectl`
/// (`CLICKHOUSECTL_BIN`, else on `PATH`). Returns the environment that
/// tells the start-up bench where they are.
fn startup_programs(
    root: &Path,
    target: &Path,
    work: &Path,
) -> Result<(StartupEnv, StartupPrograms), Error> {
    let mut env = Vec::new();
    let mut programs = StartupPrograms::default();
    let chc = target.join("release").join("chc");
    // The older tree first: both builds end in `target/release/chc`.
    if git_has_commit(root, STARTUP_BASELINE) {
        let source = work.join("before-generated");
        progress(&format!(
            "start-up baseline: `chc` of {STARTUP_BASELINE} (release build)"
        ));
        if source.exists() {
            std::fs::remove_dir_all(&source)
                .map_err(io_error(format!("removing {}", source.display())))?;
        }
        std::fs::create_dir_all(&source)
            .map_err(io_error(format!("creating {}", source.display())))?;
        extract_commit(root, STARTUP_BASELINE, &source)?;
        let manifest = source.join("Cargo.toml");
        let target_arg = target.display().to_string();
        let manifest_arg = manifest.display().to_string();
        cargo(
            root,
            &[
                "build",
                "--release",
                "-p",
                "clickhouse-cloud-cli",
                "--manifest-path",
                &manifest_arg,
                "--target-dir",
                &target_arg,
            ],
            &[],
            false,
        )?;
        let kept = work.join("chc-before-generated");
        std::fs::copy(&chc, &kept).map_err(io_error(format!("copying {}", chc.display())))?;
        env.push(("CHC_BEFORE_GENERATED_BIN", kept));
        programs.before_generated = Some(STARTUP_BASELINE.to_owned());
    } else {
        progress(&format!(
            "start-up baseline left out: commit {STARTUP_BASELINE} is not in this clone"
        ));
    }
    progress("`chc` of this tree (release build)");
    cargo(
        root,
        &["build", "--release", "-p", "clickhouse-cloud-cli"],
        &[],
        false,
    )?;
    env.push(("CHC_BIN", chc));
    if let Some(path) = find_clickhousectl() {
        let version = Command::new(&path)
            .arg("--version")
            .output()
            .map_err(io_error(format!("running {} --version", path.display())))?;
        programs.clickhousectl = Some(String::from_utf8_lossy(&version.stdout).trim().to_owned());
        env.push(("CLICKHOUSECTL_BIN", path));
    } else {
        progress(
            "`clickhousectl` not found (CLICKHOUSECTL_BIN or PATH): left out of the start-up bench",
        );
    }
    Ok((env, programs))
}

fn git_has_commit(root: &Path, commit: &str) -> bool {
    Command::new("git")
        .args(["cat-file", "-e", &format!("{commit}^{{commit}}")])
        .current_dir(root)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// `git archive COMMIT | tar -x -C DEST`.
fn extract_commit(root: &Path, commit: &str, dest: &Path) -> Result<(), Error> {
    let archive = Command::new("git")
        .args(["archive", "--format=tar", commit])
        .current_dir(root)
        .output()
        .map_err(io_error("running `git archive`"))?;
    if !archive.status.success() {
        return Err(Error::Command {
            command: format!("git archive {commit}"),
            status: archive.status.to_string(),
        });
    }
    let mut tar = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(dest)
        .stdin(Stdio::piped())
        .spawn()
        .map_err(io_error("running `tar -x`"))?;
    if let Some(mut stdin) = tar.stdin.take() {
        io::Write::write_all(&mut stdin, &archive.stdout).map_err(io_error("feeding `tar -x`"))?;
    }
    let status = tar.wait().map_err(io_error("waiting for `tar -x`"))?;
    if !status.success() {
        return Err(Error::Command {
            command: format!("tar -x -C {}", dest.display()),
            status: status.to_string(),
        });
    }
    Ok(())
}

fn find_clickhousectl() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CLICKHOUSECTL_BIN").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join("clickhousectl"))
        .find(|path| path.is_file())
}

fn progress(message: &str) {
    emit_err(&format!("bench-report: {message}\n"));
}

/// The workspace's target directory: `CARGO_TARGET_DIR` when set, else
/// `target/` under the root.
fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|dir| {
            if dir.is_absolute() {
                dir
            } else {
                root.join(dir)
            }
        })
        .unwrap_or_else(|| root.join("target"))
}

/// Runs `cargo ARGS` in `dir`. Its stdout goes to our stderr (progress)
/// unless `capture`, in which case it is returned.
fn cargo(dir: &Path, args: &[&str], env: &[(&str, &Path)], capture: bool) -> Result<String, Error> {
    let mut command = Command::new(crate::workspace::cargo_program());
    command.args(args).current_dir(dir);
    for (key, value) in env {
        command.env(key, value);
    }
    command
        .stdout(if capture {
            Stdio::piped()
        } else {
            Stdio::from(io::stderr())
        })
        // Cargo's own messages, errors included, reach the terminal.
        .stderr(Stdio::inherit());
    let line = format!("cargo {}", args.join(" "));
    let output = command
        .output()
        .map_err(io_error(format!("starting `{line}`")))?;
    if !output.status.success() {
        return Err(Error::Command {
            command: line,
            status: output.status.to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn machine() -> Result<Machine, Error> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find_map(|line| {
            let (key, value) = line.split_once(':')?;
            (key.trim() == "model name").then(|| value.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned());
    let rustc = Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
        .arg("-V")
        .output()
        .map_err(io_error("running `rustc -V`"))?;
    let load_average = std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".to_owned());
    Ok(Machine {
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        cpu_model,
        rustc: String::from_utf8_lossy(&rustc.stdout).trim().to_owned(),
        load_average,
        date: utc_date(SystemTime::now()),
    })
}

/// `YYYY-MM-DD` in UTC.
pub fn utc_date(time: SystemTime) -> String {
    let days = time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400) as i64;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Reads every `new/benchmark.json` + `new/estimates.json` pair under
/// `home` (criterion's output), sorted by group then function.
pub fn read_criterion(home: &Path) -> Result<Vec<Estimate>, Error> {
    let mut found = Vec::new();
    let mut stack = vec![home.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
            Err(error) => return Err(io_error(format!("reading {}", dir.display()))(error)),
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|name| name == "new") {
                    found.push(read_estimate(&path)?);
                } else {
                    stack.push(path);
                }
            }
        }
    }
    found.sort_by(|a, b| (&a.group, &a.function).cmp(&(&b.group, &b.function)));
    Ok(found)
}

fn read_json(path: &Path) -> Result<Value, Error> {
    let text =
        std::fs::read_to_string(path).map_err(io_error(format!("reading {}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| Error::Parse(format!("{}: {e}", path.display())))
}

fn read_estimate(dir: &Path) -> Result<Estimate, Error> {
    let benchmark = read_json(&dir.join("benchmark.json"))?;
    let estimates = read_json(&dir.join("estimates.json"))?;
    parse_estimate(&benchmark, &estimates)
        .ok_or_else(|| Error::Parse(format!("{}: unexpected criterion output", dir.display())))
}

/// One estimate from criterion's `benchmark.json` and `estimates.json`.
pub fn parse_estimate(benchmark: &Value, estimates: &Value) -> Option<Estimate> {
    let median = &estimates["median"];
    let throughput = match &benchmark["throughput"] {
        Value::Object(map) => map.iter().find_map(|(kind, n)| {
            let n = n.as_u64()?;
            match kind.as_str() {
                "Bytes" | "BytesDecimal" => Some(Throughput::Bytes(n)),
                "Elements" => Some(Throughput::Elements(n)),
                _ => None,
            }
        }),
        _ => None,
    };
    Some(Estimate {
        group: benchmark["group_id"].as_str()?.to_owned(),
        function: benchmark["function_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        median_ns: median["point_estimate"].as_f64()?,
        median_ci_ns: (
            median["confidence_interval"]["lower_bound"].as_f64()?,
            median["confidence_interval"]["upper_bound"].as_f64()?,
        ),
        throughput,
    })
}

/// The JSON lines of the `rate_limited` bench.
pub fn parse_rate_runs(output: &str) -> Result<Vec<RateRun>, Error> {
    let runs: Vec<RateRun> = output
        .lines()
        .filter(|line| line.starts_with('{'))
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|value| value["bench"] == "rate_limited")
        .filter_map(|v| {
            Some(RateRun {
                client_limiter: v["client_limiter"].as_bool()?,
                requests: v["requests"].as_u64()?,
                tasks: v["tasks"].as_u64()?,
                limit: v["limit"].as_u64()?,
                window_s: v["window_s"].as_f64()?,
                elapsed_s: v["elapsed_s"].as_f64()?,
                minimum_s: v["minimum_s"].as_f64()?,
                sent: v["sent"].as_u64()?,
                status_429: v["status_429"].as_u64()?,
                failed: v["failed"].as_u64()?,
            })
        })
        .collect();
    if runs.is_empty() {
        return Err(Error::Parse(
            "the rate_limited bench printed no result".into(),
        ));
    }
    Ok(runs)
}

/// A crate measured for footprint, and the line of a program that uses it.
struct Probe {
    name: &'static str,
    ours: bool,
    /// Build it with default features off and this one on.
    only: Option<&'static str>,
    /// A statement of `main` that uses the crate.
    uses: &'static str,
}

const PROBES: &[Probe] = &[
    Probe {
        name: "clickhouse-cloud-types",
        ours: true,
        only: None,
        uses: "let key = clickhouse_cloud_types::ApiKey::default(); println!(\"{key:?}\");",
    },
    // The same program with only the area it uses compiled in.
    Probe {
        name: "clickhouse-cloud-types",
        ours: true,
        only: Some("api-keys"),
        uses: "let key = clickhouse_cloud_types::ApiKey::default(); println!(\"{key:?}\");",
    },
    Probe {
        name: "clickhouse-cloud-auth",
        ours: true,
        only: None,
        uses: "println!(\"{}\", clickhouse_cloud_auth::KeyMaterial::generate().key_id());",
    },
    Probe {
        name: "clickhouse-cloud-transport",
        ours: true,
        only: None,
        uses: "println!(\"{:?}\", clickhouse_cloud_transport::RateLimit::PUBLISHED);",
    },
    Probe {
        name: "clickhouse-cloud-client",
        ours: true,
        only: None,
        uses: "println!(\"{:?}\", clickhouse_cloud_client::Client::builder());",
    },
    Probe {
        name: "clickhouse-cloud-emulator",
        ours: true,
        only: None,
        uses: "println!(\"{:?}\", clickhouse_cloud_emulator::Emulator::builder());",
    },
    Probe {
        name: OFFICIAL_CRATE,
        ours: false,
        only: None,
        uses: "let key = clickhouse_cloud_api::models::ApiKey::default(); println!(\"{key:?}\");",
    },
];

/// The crates whose cold build is timed in quick mode: the target's pair.
const QUICK_BUILDS: &[&str] = &["clickhouse-cloud-types", OFFICIAL_CRATE];

fn footprints(root: &Path, probes: &Path, options: &Options) -> Result<Vec<Footprint>, Error> {
    let mut results = Vec::new();
    for probe in PROBES {
        if !probe.ours && options.no_official {
            continue;
        }
        let dir = match probe.only {
            Some(feature) => probes.join(format!("{}-{feature}", probe.name)),
            None => probes.join(probe.name),
        };
        write_probe(root, &dir, probe)?;
        progress(&format!("footprint: {} {:?}", probe.name, probe.only));
        cargo(&dir, &["fetch"], &[], true)?;
        let tree = cargo(
            &dir,
            &["tree", "-e", "normal", "--prefix", "none", "-p", probe.name],
            &[],
            true,
        )?;
        let dependencies = count_dependencies(&tree);
        let cold_build_s = if options.quick && !QUICK_BUILDS.contains(&probe.name) {
            None
        } else {
            let target = dir.join("target");
            if target.exists() {
                std::fs::remove_dir_all(&target)
                    .map_err(io_error(format!("removing {}", target.display())))?;
            }
            let started = Instant::now();
            cargo(
                &dir,
                &["build", "--quiet"],
                &[("CARGO_TARGET_DIR", &target)],
                false,
            )?;
            Some(started.elapsed().as_secs_f64())
        };
        results.push(Footprint {
            name: probe.name.to_owned(),
            ours: probe.ours,
            only: probe.only.map(str::to_owned),
            dependencies,
            cold_build_s,
        });
    }
    Ok(results)
}

/// A program whose only dependency is the probe's crate. The workspace's
/// lock file comes along, so the versions are the ones the workspace uses.
fn write_probe(root: &Path, dir: &Path, probe: &Probe) -> Result<(), Error> {
    std::fs::create_dir_all(dir.join("src"))
        .map_err(io_error(format!("creating {}", dir.display())))?;
    let dependency = if probe.ours {
        let path = root.join("crates").join(probe.name);
        match probe.only {
            Some(feature) => format!(
                "{{ path = {:?}, default-features = false, features = [{feature:?}] }}",
                path.display().to_string()
            ),
            None => format!("{{ path = {:?} }}", path.display().to_string()),
        }
    } else {
        format!("\"={OFFICIAL_VERSION}\"")
    };
    let manifest = format!(
        "[package]\nname = \"probe\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [dependencies]\n{} = {dependency}\n\n# Not part of any enclosing workspace.\n[workspace]\n",
        probe.name
    );
    let files = [
        (dir.join("Cargo.toml"), manifest),
        (
            dir.join("src/main.rs"),
            format!("fn main() {{\n    {}\n}}\n", probe.uses),
        ),
    ];
    for (path, text) in files {
        std::fs::write(&path, text).map_err(io_error(format!("writing {}", path.display())))?;
    }
    let lock = dir.join("Cargo.lock");
    std::fs::copy(root.join("Cargo.lock"), &lock)
        .map_err(io_error(format!("writing {}", lock.display())))?;
    Ok(())
}

/// Distinct packages in `cargo tree -e normal --prefix none -p CRATE`
/// output, the crate itself (the first line) excluded.
pub fn count_dependencies(tree: &str) -> usize {
    let mut packages: Vec<&str> = tree
        .lines()
        .filter(|line| !line.trim().is_empty())
        .filter_map(|line| {
            // `name vX.Y.Z (path) (*)`: name and version identify a package.
            let mut words = line.split_whitespace();
            let name = words.next()?;
            let version = words.next()?;
            let end = name.len() + 1 + version.len();
            line.trim_start().get(..end)
        })
        .collect();
    let itself = packages.first().copied();
    packages.sort_unstable();
    packages.dedup();
    packages.len() - usize::from(itself.is_some())
}

/// A ratio of two times, with the interquartile range of the interleaved
/// rounds when there is one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ratio {
    /// The ratio.
    pub value: f64,
    /// First and third quartiles of the per-round ratios.
    pub range: Option<(f64, f64)>,
}

impl Ratio {
    /// The inverse ratio (`b / a`), range included.
    pub fn inverse(self) -> Ratio {
        Ratio {
            value: 1.0 / self.value,
            range: self.range.map(|(low, high)| (1.0 / high, 1.0 / low)),
        }
    }

    /// `1.23× (1.20–1.27)`.
    pub fn show(self) -> String {
        match self.range {
            Some((low, high)) => format!("{:.2}× ({low:.2}–{high:.2})", self.value),
            None => format!("{:.2}×", self.value),
        }
    }
}

/// A target and where the run stands.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// The target, in words.
    pub target: String,
    /// The measured value, in words.
    pub measured: String,
    /// Met, missed, or not measured in this run.
    pub met: Option<bool>,
}

impl Results {
    /// The estimate of `function` in `group`.
    pub fn estimate(&self, group: &str, function: &str) -> Option<&Estimate> {
        self.estimates
            .iter()
            .find(|e| e.group == group && e.function == function)
    }

    /// `time(a) / time(b)` within `group` (above 1: `a` is slower), with
    /// its interquartile range: the median of the interleaved rounds' ratios
    /// when the `ratios` bench measured the pair, else the ratio of
    /// criterion's medians (no range).
    pub fn ratio(&self, group: &str, a: &str, b: &str) -> Option<Ratio> {
        let paired = self
            .paired
            .iter()
            .find(|p| p.group == group)
            .and_then(|p| p.ratio(a, b));
        match paired {
            Some([low, median, high]) => Some(Ratio {
                value: median,
                range: Some((low, high)),
            }),
            None => Some(Ratio {
                value: self.estimate(group, a)?.median_ns / self.estimate(group, b)?.median_ns,
                range: None,
            }),
        }
    }

    fn footprint_of(&self, name: &str) -> Option<&Footprint> {
        self.footprint
            .iter()
            .find(|f| f.name == name && f.only.is_none())
    }

    /// Each target of the issue, judged against this run.
    pub fn verdicts(&self) -> Vec<Verdict> {
        let mut verdicts = Vec::new();
        let verdict = |target: String,
                       value: Option<f64>,
                       show: &dyn Fn(f64) -> String,
                       ok: &dyn Fn(f64) -> bool| Verdict {
            target,
            measured: value.map_or_else(|| "not measured".to_owned(), show),
            met: value.map(ok),
        };
        let ratio_verdict =
            |target: String, ratio: Option<Ratio>, ok: &dyn Fn(f64) -> bool| Verdict {
                target,
                measured: ratio.map_or_else(|| "not measured".to_owned(), Ratio::show),
                met: ratio.map(|r| ok(r.value)),
            };
        for body in DECODE_BODIES {
            let group = body.group;
            verdicts.push(ratio_verdict(
                format!(
                    "decode {}: ours ≥ 1.2× the official crate's throughput",
                    body.label
                ),
                self.ratio(group, "official", "ours"),
                &|r| r >= 1.2,
            ));
            if group == "decode/services_200" {
                continue;
            }
            verdicts.push(ratio_verdict(
                format!(
                    "decode {}: ours within 1.3× of the zero-copy floor (time ratio)",
                    body.label
                ),
                self.ratio(group, "ours", "zero_copy"),
                &|r| r <= 1.3,
            ));
        }
        for (group, label) in REQUEST_GROUPS {
            verdicts.push(ratio_verdict(
                format!("client overhead ({label}): ours ≤ 1.05× bare reqwest's time"),
                self.ratio(group, "ours", "bare_reqwest"),
                &|r| r <= 1.05,
            ));
        }
        let limited = self.rate_runs.iter().find(|r| r.client_limiter);
        verdicts.push(verdict(
            "rate-limited: total time within 10% of the minimum".to_owned(),
            limited.map(|r| r.elapsed_s / r.minimum_s),
            &|r| format!("{r:.3}× the minimum"),
            &|r| r <= 1.10,
        ));
        verdicts.push(verdict(
            "rate-limited: every call succeeds".to_owned(),
            limited.map(|r| r.failed as f64),
            &|n| format!("{n} failed"),
            &|n| n == 0.0,
        ));
        verdicts.push(verdict(
            "rate-limited: zero `429`s".to_owned(),
            limited.map(|r| r.status_429 as f64),
            &|n| format!("{n} × 429"),
            &|n| n == 0.0,
        ));
        for (group, label) in STARTUP_CASES {
            if self.ratio(group, "ours", "before_generated").is_none() {
                continue;
            }
            verdicts.push(ratio_verdict(
                format!(
                    "start-up, `{label}` (whole process): ours within 1.2× of `chc` before its generated commands"
                ),
                self.ratio(group, "ours", "before_generated"),
                &|r| r <= 1.2,
            ));
        }
        let types = self.footprint_of("clickhouse-cloud-types");
        verdicts.push(verdict(
            "types crate: at most 15 dependencies".to_owned(),
            types.map(|f| f.dependencies as f64),
            &|n| format!("{n}"),
            &|n| n <= 15.0,
        ));
        let build_ratio = types
            .and_then(|t| t.cold_build_s)
            .zip(
                self.footprint_of(OFFICIAL_CRATE)
                    .and_then(|o| o.cold_build_s),
            )
            .map(|(t, o)| t / o);
        verdicts.push(verdict(
            "types crate: cold build under ⅓ of the official crate's".to_owned(),
            build_ratio,
            &|r| format!("{r:.2}× the official crate's"),
            &|r| r < 1.0 / 3.0,
        ));
        verdicts
    }
}

/// A decoding bench's body.
struct DecodeBody {
    group: &'static str,
    label: &'static str,
}

const DECODE_BODIES: &[DecodeBody] = &[
    DecodeBody {
        group: "decode/keys_1000",
        label: "1,000 API keys",
    },
    DecodeBody {
        group: "decode/activities_10000",
        label: "10,000 activities",
    },
    DecodeBody {
        group: "decode/services_200",
        label: "200 services",
    },
];

const DECODERS: &[(&str, &str)] = &[
    ("ours", "ours (types)"),
    ("ours_path_to_error", "ours via `serde_path_to_error`"),
    ("ours_client", "ours (client path)"),
    ("official", "official crate"),
    ("zero_copy", "zero-copy `&str`"),
    ("parse_only", "`IgnoredAny`"),
];

/// The start-up bench's groups and the `chc` command each runs.
const STARTUP_CASES: [(&str, &str); 5] = [
    ("startup/version", "chc --version"),
    ("startup/help", "chc --help"),
    ("startup/keys_list", "chc keys list"),
    ("startup/services_list", "chc services list"),
    ("startup/backups_list", "chc backups list SERVICE"),
];

const REQUEST_GROUPS: [(&str, &str); 3] = [
    ("request/sequential", "sequential"),
    ("request/concurrent_32", "32 concurrent"),
    ("request/paged_5x50", "paged listing, 5 pages of 50"),
];

fn fmt_time(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.2} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.1} ns")
    }
}

fn fmt_rate(per_second: f64) -> String {
    if per_second >= 1e6 {
        format!("{:.2} M/s", per_second / 1e6)
    } else if per_second >= 1e3 {
        format!("{:.1} k/s", per_second / 1e3)
    } else {
        format!("{per_second:.0} /s")
    }
}

fn fmt_opt(value: Option<f64>, show: impl Fn(f64) -> String) -> String {
    value.map_or_else(|| "–".to_owned(), show)
}

/// The Markdown report.
pub fn render(results: &Results) -> String {
    let mut out = String::new();
    let m = &results.machine;
    let o = &results.options;
    let _ = writeln!(out, "# Benchmark report\n");
    let _ = writeln!(
        out,
        "Written by `{}` on {}. Every figure below was measured by that run; \
         nothing in the harness states an expected result.\n",
        o.command_line(),
        m.date
    );
    let _ = writeln!(out, "| machine | |\n| --- | --- |");
    let _ = writeln!(out, "| CPUs (`nproc`) | {} |", m.cpus);
    let _ = writeln!(out, "| CPU model | {} |", m.cpu_model);
    let _ = writeln!(out, "| rustc | {} |", m.rustc);
    let _ = writeln!(
        out,
        "| load average at start | {} (shared machine: absolute figures are noisy, ratios within one run less so) |",
        m.load_average
    );
    let _ = writeln!(
        out,
        "| mode | {} |\n",
        if o.quick {
            "quick: criterion `--warm-up-time 1 --measurement-time 2 --sample-size 10`; cold builds of the types crate (whole, and with only `api-keys`) and the official crate only"
        } else {
            "full: criterion defaults of each bench; every cold build"
        }
    );
    let _ = writeln!(out, "Reproduce: `{}`\n", o.command_line());
    let _ = writeln!(
        out,
        "Absolute times and throughputs are criterion's medians per iteration. \
         Ratios come from the `ratios` bench, which runs the contenders of each \
         comparison interleaved, round after round, so that load from other \
         processes hits both sides alike: each is the median of the per-round \
         ratios, with the interquartile range in brackets.\n"
    );

    let _ = writeln!(out, "## Targets\n");
    let _ = writeln!(out, "| target | measured | status |\n| --- | --- | --- |");
    for v in results.verdicts() {
        let status = match v.met {
            Some(true) => "met",
            Some(false) => "**missed**",
            None => "not measured",
        };
        let _ = writeln!(out, "| {} | {} | {status} |", v.target, v.measured);
    }

    render_decoding(&mut out, results);
    render_requests(&mut out, results);
    render_rate(&mut out, results);
    render_simple(
        &mut out,
        results,
        "## 4. Auth",
        "Per operation, single thread (`cargo bench -p clickhouse-cloud-benches --bench auth`).",
        "auth",
    );
    render_simple(
        &mut out,
        results,
        "## 5. Emulator",
        "Authenticated `GET /v1/organizations/{id}/keys` on loopback, limit off, \
         bare reqwest as the client on the same 2 cores \
         (`cargo bench -p clickhouse-cloud-benches --bench emulator`).",
        "emulator/keys_list",
    );
    render_startup(&mut out, results);
    render_footprint(&mut out, results);
    out
}

fn render_startup(out: &mut String, results: &Results) {
    let _ = writeln!(out, "\n## 6. Start-up\n");
    let before = results.startup.before_generated.as_deref().map_or_else(
        || "not built in this run (its commit is not in this clone)".to_owned(),
        |commit| {
            format!(
                "`chc` built from commit `{}`, the tree just before the generated commands",
                &commit[..commit.len().min(12)]
            )
        },
    );
    let official = results.startup.clickhousectl.as_deref().map_or_else(
        || "not found in this run (set `CLICKHOUSECTL_BIN` or put it on `PATH`)".to_owned(),
        |version| format!("`{version}`"),
    );
    let _ = writeln!(
        out,
        "Whole processes: each command started, run against the emulator on loopback \
         (rate limit off, one service, credentials and organization from the environment, \
         output to `/dev/null`) and waited for; release builds \
         (`cargo build --release -p clickhouse-cloud-cli && cargo bench -p clickhouse-cloud-benches --bench startup`). \
         Before generated: {before}. Official: {official}, whose commands are \
         `clickhousectl cloud key list`, `cloud service list`, `cloud backup list SERVICE` \
         (with `--url` and `--org-id`). Times: medians of the interleaved rounds of the \
         `ratios` bench when it compared the programs (criterion's medians in brackets).\n"
    );
    let _ = writeln!(
        out,
        "| command | ours | before generated | clickhousectl | ours ÷ before | ours ÷ clickhousectl |\n| --- | --- | --- | --- | --- | --- |"
    );
    for (group, label) in STARTUP_CASES {
        let paired = results.paired.iter().find(|p| p.group == group);
        let time = |name: &str| {
            let interleaved = paired.and_then(|p| p.median(name));
            let criterion = results.estimate(group, name).map(|e| e.median_ns);
            match (interleaved, criterion) {
                (Some(i), Some(c)) => format!("{} ({})", fmt_time(i), fmt_time(c)),
                (Some(i), None) => fmt_time(i),
                (None, Some(c)) => format!("({})", fmt_time(c)),
                (None, None) => "–".to_owned(),
            }
        };
        let ratio = |other: &str| {
            results
                .ratio(group, "ours", other)
                .map_or_else(|| "–".to_owned(), Ratio::show)
        };
        let _ = writeln!(
            out,
            "| `{label}` | {} | {} | {} | {} | {} |",
            time("ours"),
            time("before_generated"),
            time("clickhousectl"),
            ratio("before_generated"),
            ratio("clickhousectl"),
        );
    }
}

fn render_decoding(out: &mut String, results: &Results) {
    let _ = writeln!(out, "\n## 1. Decoding\n");
    let _ = writeln!(
        out,
        "The same bytes through each decoder with `serde_json::from_slice` \
         (`cargo bench -p clickhouse-cloud-benches --features official --bench decode`). \
         The keys and activities are built by the bench from our types; the services \
         as JSON following the spec's `Service`. \
         \"client path\" is `Client::send` over an in-memory transport \
         (envelope, `serde_path_to_error`, limiter and retries off). \
         Throughput from criterion; MB/s are 10^6 bytes per second.\n"
    );
    let _ = write!(out, "| body | size |");
    for (_, label) in DECODERS {
        let _ = write!(out, " {label} |");
    }
    let _ = writeln!(out, "\n|{}", " --- |".repeat(DECODERS.len() + 2));
    for body in DECODE_BODIES {
        let size = DECODERS.iter().find_map(|(f, _)| {
            match results.estimate(body.group, f)?.throughput? {
                Throughput::Bytes(n) => Some(n),
                Throughput::Elements(_) => None,
            }
        });
        let _ = write!(
            out,
            "| {} | {} |",
            body.label,
            fmt_opt(size.map(|n| n as f64), |n| format!("{:.0} KB", n / 1e3))
        );
        for (function, _) in DECODERS {
            let rate = results
                .estimate(body.group, function)
                .and_then(Estimate::per_second);
            let _ = write!(
                out,
                " {} |",
                fmt_opt(rate, |r| format!("{:.0} MB/s", r / 1e6))
            );
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(
        out,
        "\nRatios, from the interleaved rounds of the `ratios` bench (median of the \
         per-round ratios, interquartile range in brackets):\n"
    );
    let columns: [(&str, &str, &str); 5] = [
        (
            "ours ÷ official, throughput (target ≥ 1.2)",
            "official",
            "ours",
        ),
        ("ours ÷ zero-copy, time (target ≤ 1.3)", "ours", "zero_copy"),
        (
            "`serde_path_to_error` ÷ ours, time",
            "ours_path_to_error",
            "ours",
        ),
        ("client path ÷ ours, time", "ours_client", "ours"),
        ("official ÷ zero-copy, time", "official", "zero_copy"),
    ];
    let _ = write!(out, "| body |");
    for (label, ..) in &columns {
        let _ = write!(out, " {label} |");
    }
    let _ = writeln!(out, "\n|{}", " --- |".repeat(columns.len() + 1));
    for body in DECODE_BODIES {
        let _ = write!(out, "| {} |", body.label);
        for (_, a, b) in &columns {
            let cell = results
                .ratio(body.group, a, b)
                .map_or_else(|| "–".to_owned(), Ratio::show);
            let _ = write!(out, " {cell} |");
        }
        let _ = writeln!(out);
    }
}

fn render_requests(out: &mut String, results: &Results) {
    let _ = writeln!(out, "\n## 2. Request overhead\n");
    let _ = writeln!(
        out,
        "One GET of a recorded 10-key list from a local server of fixed bytes \
         (axum), decoded into our types. Ours: `client.api_keys(org).list()` \
         with the rate limiter on but not binding and a tracing subscriber \
         (INFO, to a sink). Bare: `reqwest::Client` + `serde_json::from_slice`. \
         The paged listing: 250 keys in 5 pages of 50 from a local server of \
         fixed pages, ours through `api_keys(org).stream().page_size(50).all()`, \
         bare reqwest following `nextCursor` by hand; its times are per page. \
         (`cargo bench -p clickhouse-cloud-benches --bench request`) \
         Times per request: medians of the interleaved rounds of the `ratios` \
         bench (criterion's medians, measured one after the other, in brackets); \
         the overhead is the median of the rounds' differences.\n"
    );
    let _ = writeln!(
        out,
        "| case | ours | bare reqwest | ours ÷ bare | overhead per request |\n| --- | --- | --- | --- | --- |"
    );
    for (group, label) in REQUEST_GROUPS {
        let ours = results.estimate(group, "ours");
        let bare = results.estimate(group, "bare_reqwest");
        let elements = ours
            .or(bare)
            .and_then(|e| match e.throughput {
                Some(Throughput::Elements(n)) if n > 0 => Some(n as f64),
                _ => None,
            })
            .unwrap_or(1.0);
        let paired = results.paired.iter().find(|p| p.group == group);
        let time = |name: &str, estimate: Option<&Estimate>| {
            let interleaved = paired.and_then(|p| p.median(name)).map(|ns| ns / elements);
            let criterion = estimate.map(|e| e.median_ns / elements);
            match (interleaved, criterion) {
                (Some(i), Some(c)) => format!("{} ({})", fmt_time(i), fmt_time(c)),
                (Some(i), None) => fmt_time(i),
                (None, Some(c)) => format!("({})", fmt_time(c)),
                (None, None) => "–".to_owned(),
            }
        };
        let overhead = paired
            .and_then(|p| p.difference("ours", "bare_reqwest"))
            .map(|ns| ns / elements);
        let _ = writeln!(
            out,
            "| {label} | {} | {} | {} | {} |",
            time("ours", ours),
            time("bare_reqwest", bare),
            results
                .ratio(group, "ours", "bare_reqwest")
                .map_or_else(|| "–".to_owned(), Ratio::show),
            fmt_opt(overhead, |ns| if ns < 0.0 {
                format!("−{}", fmt_time(-ns))
            } else {
                fmt_time(ns)
            }),
        );
    }
}

fn render_rate(out: &mut String, results: &Results) {
    let _ = writeln!(out, "\n## 3. Rate-limited throughput\n");
    let _ = writeln!(
        out,
        "Requests from several tasks against the emulator with its limit scaled \
         down, through our client (`cargo bench -p clickhouse-cloud-benches --bench rate_limited`). \
         The minimum is what a perfect client needs against the emulator's fixed \
         windows, which open at a window's first request: (⌈requests ÷ limit⌉ − 1) windows. \
         `429`s are counted on the wire, under the client's retries. A run \
         with failed calls finished fewer than all its requests, so its total \
         is not comparable with the minimum.\n"
    );
    let _ = writeln!(
        out,
        "| client limiter | requests | tasks | limit | total | minimum | total ÷ minimum | sent | `429`s | failed |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    );
    for r in &results.rate_runs {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} per {} s | {:.2} s | {:.2} s | {} | {} | {} | {} |",
            if r.client_limiter {
                "on (same limit)"
            } else {
                "off (retries only)"
            },
            r.requests,
            r.tasks,
            r.limit,
            r.window_s,
            r.elapsed_s,
            r.minimum_s,
            if r.failed == 0 {
                format!("{:.3}×", r.elapsed_s / r.minimum_s)
            } else {
                "not comparable".to_owned()
            },
            r.sent,
            r.status_429,
            r.failed
        );
    }
}

fn render_simple(out: &mut String, results: &Results, title: &str, about: &str, group: &str) {
    let _ = writeln!(out, "\n{title}\n\n{about}\n");
    let _ = writeln!(
        out,
        "| bench | time per iteration | per second |\n| --- | --- | --- |"
    );
    for e in results.estimates.iter().filter(|e| e.group == group) {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            e.function,
            fmt_time(e.median_ns),
            fmt_opt(e.per_second(), fmt_rate)
        );
    }
}

fn render_footprint(out: &mut String, results: &Results) {
    let _ = writeln!(out, "\n## 7. Footprint\n");
    if results.footprint.is_empty() {
        let _ = writeln!(out, "Not measured (`--skip-footprint`).");
        return;
    }
    let _ = writeln!(
        out,
        "A program whose only dependency is the crate (ours by path, the official \
         one `={OFFICIAL_VERSION}` from crates.io), with the workspace's lock file. \
         Dependencies: distinct packages in `cargo tree -e normal --prefix none -p CRATE`, \
         the crate itself excluded. Cold build: `cargo build` (debug profile) in a fresh \
         target directory, sources already fetched, default jobs.\n"
    );
    let _ = writeln!(
        out,
        "| crate | dependencies | cold build (debug) |\n| --- | --- | --- |"
    );
    for f in &results.footprint {
        let name = if let Some(feature) = &f.only {
            format!("`{}`, only `{feature}`", f.name)
        } else if f.ours {
            format!("`{}`", f.name)
        } else {
            format!("`{}` {OFFICIAL_VERSION} (official)", f.name)
        };
        let _ = writeln!(
            out,
            "| {name} | {} | {} |",
            f.dependencies,
            fmt_opt(f.cold_build_s, |s| format!("{s:.1} s"))
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dependency_counts_skip_repeats_and_the_crate_itself() {
        let tree = "\
clickhouse-cloud-types v0.1.0 (/work/main/crates/clickhouse-cloud-types)
chrono v0.4.45
serde v1.0.229
serde_derive v1.0.229 (proc-macro)
serde v1.0.229 (*)
uuid v1.26.1

";
        assert_eq!(count_dependencies(tree), 4);
        assert_eq!(count_dependencies(""), 0);
    }

    #[test]
    fn criterion_estimates_are_read() {
        let benchmark = json!({
            "group_id": "decode/keys_1000", "function_id": "ours",
            "throughput": {"BytesDecimal": 400000}
        });
        let estimates = json!({"median": {"point_estimate": 1.0e6,
            "confidence_interval": {"lower_bound": 0.9e6, "upper_bound": 1.1e6}}});
        let estimate = parse_estimate(&benchmark, &estimates).unwrap();
        assert_eq!(estimate.throughput, Some(Throughput::Bytes(400_000)));
        assert_eq!(estimate.per_second(), Some(400_000_000.0));
        assert!(parse_estimate(&json!({}), &estimates).is_none());
    }

    #[test]
    fn rate_runs_are_read_from_json_lines() {
        let output = "noise\n{\"bench\":\"rate_limited\",\"client_limiter\":true,\"requests\":100,\
            \"tasks\":8,\"limit\":10,\"window_s\":1.0,\"elapsed_s\":9.5,\"minimum_s\":9.0,\
            \"ratio\":1.05,\"sent\":100,\"status_429\":0,\"failed\":0}\n";
        let runs = parse_rate_runs(output).unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].status_429, 0);
        assert!(parse_rate_runs("nothing").is_err());
    }

    #[test]
    fn paired_ratios_are_medians_of_rounds() {
        let output = "{\"bench\":\"paired\",\"group\":\"g\",\"bytes\":10,\
            \"times_ns\":{\"a\":[2.0,4.0,6.0],\"b\":[1.0,1.0,2.0]}}\n";
        let paired = parse_paired(output);
        assert_eq!(paired.len(), 1);
        assert_eq!(paired[0].ratio("a", "b"), Some([2.0, 3.0, 4.0]));
        assert_eq!(paired[0].ratio("a", "c"), None);
        let ratio = Ratio {
            value: 2.0,
            range: Some((1.0, 4.0)),
        };
        assert_eq!(ratio.inverse().range, Some((0.25, 1.0)));
        assert_eq!(ratio.show(), "2.00× (1.00–4.00)");
    }

    #[test]
    fn dates_are_civil() {
        assert_eq!(utc_date(UNIX_EPOCH), "1970-01-01");
        let leap = UNIX_EPOCH + std::time::Duration::from_secs(951_782_400);
        assert_eq!(utc_date(leap), "2000-02-29");
    }

    fn test_machine() -> Machine {
        Machine {
            cpus: 2,
            cpu_model: "test".into(),
            rustc: "rustc".into(),
            load_average: "0".into(),
            date: "2000-01-01".into(),
        }
    }

    fn estimate(group: &str, function: &str, ns: f64) -> Estimate {
        Estimate {
            group: group.into(),
            function: function.into(),
            median_ns: ns,
            median_ci_ns: (ns, ns),
            throughput: Some(Throughput::Bytes(1000)),
        }
    }

    #[test]
    fn verdicts_follow_the_measurements() {
        let results = Results {
            options: Options {
                quick: true,
                ..Options::default()
            },
            machine: test_machine(),
            estimates: vec![
                estimate("decode/keys_1000", "ours", 100.0),
                estimate("decode/keys_1000", "official", 150.0),
                estimate("decode/keys_1000", "zero_copy", 50.0),
            ],
            paired: Vec::new(),
            rate_runs: Vec::new(),
            footprint: vec![Footprint {
                name: "clickhouse-cloud-types".into(),
                ours: true,
                only: None,
                dependencies: 12,
                cold_build_s: None,
            }],
            startup: StartupPrograms::default(),
        };
        let verdicts = results.verdicts();
        let met = |prefix: &str| {
            verdicts
                .iter()
                .find(|v| v.target.starts_with(prefix))
                .unwrap()
                .met
        };
        assert_eq!(met("decode 1,000 API keys: ours ≥"), Some(true));
        assert_eq!(met("decode 1,000 API keys: ours within"), Some(false));
        assert_eq!(met("decode 10,000"), None);
        assert_eq!(met("types crate: at most"), Some(true));
        assert_eq!(met("rate-limited: zero"), None);
        let report = render(&results);
        assert!(report.contains("cargo xtask bench-report --quick"));
        assert!(report.contains("| 1,000 API keys | 1 KB | 10000 MB/s |"));
        assert!(report.contains("| 1,000 API keys | 1.50× |"));
    }

    #[test]
    fn a_one_area_build_is_shown_apart_and_never_judged_as_the_whole_crate() {
        let footprint = |only: Option<&str>, cold: f64| Footprint {
            name: "clickhouse-cloud-types".into(),
            ours: true,
            only: only.map(str::to_owned),
            dependencies: 10,
            cold_build_s: Some(cold),
        };
        let official = Footprint {
            name: OFFICIAL_CRATE.into(),
            ours: false,
            only: None,
            dependencies: 30,
            cold_build_s: Some(30.0),
        };
        let results = Results {
            options: Options::default(),
            machine: test_machine(),
            estimates: Vec::new(),
            paired: Vec::new(),
            rate_runs: Vec::new(),
            footprint: vec![
                footprint(None, 20.0),
                footprint(Some("api-keys"), 5.0),
                official,
            ],
            startup: StartupPrograms::default(),
        };
        assert_eq!(
            results.footprint_of("clickhouse-cloud-types").unwrap().only,
            None
        );
        let build = results
            .verdicts()
            .into_iter()
            .find(|v| v.target.contains("cold build"))
            .unwrap();
        assert!(build.measured.contains("0.67"), "{build:?}");
        let mut out = String::new();
        render_footprint(&mut out, &results);
        assert!(
            out.contains("| `clickhouse-cloud-types`, only `api-keys` | 10 | 5.0 s |"),
            "{out}"
        );
        assert!(
            out.contains("| `clickhouse-cloud-types` | 10 | 20.0 s |"),
            "{out}"
        );
    }

    #[test]
    fn start_up_is_judged_against_the_older_chc_only_where_it_ran() {
        let output = "{\"bench\":\"paired\",\"group\":\"startup/keys_list\",\"elements\":1,\
            \"times_ns\":{\"ours\":[4.0e6,4.4e6,5.0e6],\"before_generated\":[4.0e6,4.0e6,4.0e6],\
            \"clickhousectl\":[8.0e6,8.0e6,8.0e6]}}\n\
            {\"bench\":\"paired\",\"group\":\"startup/services_list\",\"elements\":1,\
            \"times_ns\":{\"ours\":[6.0e6,6.0e6,6.0e6],\"before_generated\":[4.0e6,4.0e6,4.0e6]}}\n";
        let results = Results {
            options: Options::default(),
            machine: test_machine(),
            estimates: vec![estimate("startup/backups_list", "ours", 5.0e6)],
            paired: parse_paired(output),
            rate_runs: Vec::new(),
            footprint: Vec::new(),
            startup: StartupPrograms {
                before_generated: Some(STARTUP_BASELINE.to_owned()),
                clickhousectl: Some("clickhousectl 0.5.0".to_owned()),
            },
        };
        let verdicts: Vec<Verdict> = results
            .verdicts()
            .into_iter()
            .filter(|v| v.target.starts_with("start-up"))
            .collect();
        // Only the commands both programs ran are judged.
        assert_eq!(verdicts.len(), 2, "{verdicts:?}");
        assert!(verdicts[0].target.contains("`chc keys list`"));
        assert_eq!(verdicts[0].met, Some(true), "{verdicts:?}");
        assert!(verdicts[0].measured.starts_with("1.10×"), "{verdicts:?}");
        assert_eq!(verdicts[1].met, Some(false), "{verdicts:?}");
        let mut out = String::new();
        render_startup(&mut out, &results);
        assert!(
            out.contains("| `chc keys list` | 4.40 ms | 4.00 ms | 8.00 ms | 1.10× (1.00–1.25) | 0.55× (0.50–0.62) |"),
            "{out}"
        );
        assert!(
            out.contains("| `chc backups list SERVICE` | (5.00 ms) | – | – | – | – |"),
            "{out}"
        );
        assert!(out.contains("`clickhousectl 0.5.0`"), "{out}");
    }
}
