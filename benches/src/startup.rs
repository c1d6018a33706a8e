//! Whole-process start-up: a command-line program started, run against the
//! emulator on loopback, and waited for, over and over. The contenders are
//! `chc` as built from this tree, and when their paths are given, an older
//! build of `chc` (the one before its commands were generated from the
//! operation table) and the official `clickhousectl`.
//!
//! Where the programs are, from the environment:
//!
//! | variable | program | default |
//! | --- | --- | --- |
//! | `CHC_BIN` | `chc` of this tree | `chc` beside the bench's own `deps/` folder (`target/release/chc`) |
//! | `CHC_BEFORE_GENERATED_BIN` | the older `chc` | not measured |
//! | `CLICKHOUSECTL_BIN` | `clickhousectl` | not measured |
//!
//! `cargo xtask bench-report` builds the first two and finds the third.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use clickhouse_cloud_emulator::{Emulator, RunningEmulator};
use tokio::runtime::Runtime;

use crate::paired::Contender;

/// Which command-line interface a program speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `chc`, built from this tree.
    Chc,
    /// `chc` as it was before its generated commands: no `backups` area.
    ChcBeforeGenerated,
    /// The official `clickhousectl`, under `clickhousectl cloud`.
    Clickhousectl,
}

/// One program under measurement.
#[derive(Debug, Clone)]
pub struct Program {
    /// Name in reports: `ours`, `before_generated`, `clickhousectl`.
    pub name: &'static str,
    /// Its command-line dialect.
    pub dialect: Dialect,
    /// The executable.
    pub path: PathBuf,
}

/// One command measured for every program that has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    /// `--version`: start-up and exit, no network.
    Version,
    /// `--help` of the whole program: every top-level command described.
    Help,
    /// The key list (one or two API calls).
    KeysList,
    /// The service list.
    ServicesList,
    /// A service's backups (a generated command in `chc`).
    BackupsList,
}

impl Case {
    /// Every case, in report order.
    pub const ALL: [Case; 5] = [
        Case::Version,
        Case::Help,
        Case::KeysList,
        Case::ServicesList,
        Case::BackupsList,
    ];

    /// Criterion group, e.g. `startup/keys_list`.
    pub fn group(self) -> &'static str {
        match self {
            Case::Version => "startup/version",
            Case::Help => "startup/help",
            Case::KeysList => "startup/keys_list",
            Case::ServicesList => "startup/services_list",
            Case::BackupsList => "startup/backups_list",
        }
    }

    /// The arguments `dialect` takes for this case, or `None` when it has
    /// no such command. `service` is a service's UUID.
    pub fn args(self, dialect: Dialect, service: &str) -> Option<Vec<String>> {
        let words: &[&str] = match (self, dialect) {
            (Case::Version, _) => &["--version"],
            (Case::Help, _) => &["--help"],
            (Case::KeysList, Dialect::Clickhousectl) => &["cloud", "key", "list"],
            (Case::KeysList, _) => &["keys", "list"],
            (Case::ServicesList, Dialect::Clickhousectl) => &["cloud", "service", "list"],
            (Case::ServicesList, _) => &["services", "list"],
            (Case::BackupsList, Dialect::Clickhousectl) => &["cloud", "backup", "list", service],
            (Case::BackupsList, Dialect::Chc) => &["backups", "list", service],
            (Case::BackupsList, Dialect::ChcBeforeGenerated) => return None,
        };
        Some(words.iter().map(|word| (*word).to_owned()).collect())
    }
}

/// Why the start-up bench cannot run.
#[derive(Debug)]
pub struct SetupError(pub String);

impl std::fmt::Display for SetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SetupError {}

/// A running emulator with one service, an empty home and working folder,
/// and the programs to measure against it.
pub struct Startup {
    runtime: Runtime,
    emulator: Option<RunningEmulator>,
    home: PathBuf,
    service: String,
    env: Vec<(&'static str, String)>,
    /// The programs found, `ours` first.
    pub programs: Vec<Program>,
}

impl std::fmt::Debug for Startup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Startup")
            .field("home", &self.home)
            .field("service", &self.service)
            .field("programs", &self.programs)
            .finish_non_exhaustive()
    }
}

impl Startup {
    /// Finds the programs, starts the emulator (rate limit off), creates a
    /// service with `chc`, and checks that every program runs every case it
    /// has.
    pub fn start() -> Result<Self, SetupError> {
        let programs = programs()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| SetupError(format!("tokio runtime: {e}")))?;
        let emulator = runtime
            .block_on(Emulator::builder().rate_limit(None).start())
            .map_err(|e| SetupError(format!("starting the emulator: {e}")))?;
        let home = std::env::temp_dir().join(format!("chc-startup-bench-{}", std::process::id()));
        std::fs::create_dir_all(&home)
            .map_err(|e| SetupError(format!("creating {}: {e}", home.display())))?;
        let credentials = emulator.bootstrap_credentials();
        let env = vec![
            ("HOME", home.display().to_string()),
            (
                "XDG_CONFIG_HOME",
                home.join(".config").display().to_string(),
            ),
            ("CHC_CONFIG_DIR", home.join("chc").display().to_string()),
            (
                "CLICKHOUSE_CLOUD_API_KEY",
                credentials.key_id().as_str().to_owned(),
            ),
            (
                "CLICKHOUSE_CLOUD_API_SECRET",
                credentials.key_secret().expose().to_owned(),
            ),
            ("CLICKHOUSE_API_URL", emulator.base_url()),
            ("CLICKHOUSE_ORG_ID", emulator.organization_id().to_string()),
            ("NO_COLOR", "1".to_owned()),
        ];
        let mut startup = Startup {
            runtime,
            emulator: Some(emulator),
            home,
            service: String::new(),
            env,
            programs,
        };
        startup.service = startup.create_service()?;
        for program in &startup.programs {
            for case in Case::ALL {
                if let Some(args) = startup.args(program, case) {
                    let output = startup
                        .command(program, &args)
                        .stdout(Stdio::piped())
                        .stderr(Stdio::piped())
                        .output()
                        .map_err(|e| {
                            SetupError(format!("starting {}: {e}", program.path.display()))
                        })?;
                    check(program, &args, &output)?;
                }
            }
        }
        Ok(startup)
    }

    /// The arguments of `case` for `program`, with the emulator's URL and
    /// organization where the program takes them as flags.
    pub fn args(&self, program: &Program, case: Case) -> Option<Vec<String>> {
        let mut args = case.args(program.dialect, &self.service)?;
        if program.dialect == Dialect::Clickhousectl && args.first().is_some_and(|a| a == "cloud") {
            let emulator = self.emulator.as_ref()?;
            args.splice(
                1..1,
                [
                    "--url".to_owned(),
                    emulator.base_url(),
                    "--org-id".to_owned(),
                    emulator.organization_id().to_string(),
                ],
            );
        }
        Some(args)
    }

    /// `program ARGS` with the bench's environment, in the empty home.
    fn command(&self, program: &Program, args: &[String]) -> Command {
        let mut command = Command::new(&program.path);
        command
            .args(args)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (*k, v.as_str())))
            .current_dir(&self.home)
            .stdin(Stdio::null());
        if let Some(path) = std::env::var_os("PATH") {
            command.env("PATH", path);
        }
        command
    }

    /// Runs `program ARGS` once, output discarded; panics if it fails,
    /// since a failing command would measure the wrong thing.
    pub fn run(&self, program: &Program, args: &[String]) {
        let status = self
            .command(program, args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        match status {
            Ok(status) if status.success() => {}
            other => panic!("`{} {}` failed: {other:?}", program.name, args.join(" ")),
        }
    }

    /// One contender per program that has `case`.
    pub fn contenders(&self, case: Case) -> Vec<Contender<'_>> {
        self.programs
            .iter()
            .filter_map(|program| {
                let args = self.args(program, case)?;
                Some(Contender::new(program.name, move || {
                    self.run(program, &args)
                }))
            })
            .collect()
    }

    fn create_service(&self) -> Result<String, SetupError> {
        let ours = &self.programs[0];
        let args: Vec<String> = [
            "services",
            "create",
            "--name",
            "startup-bench",
            "--provider",
            "aws",
            "--region",
            "us-east-1",
            "--ip",
            "0.0.0.0/0",
            "-o",
            "json",
        ]
        .iter()
        .map(|word| (*word).to_owned())
        .collect();
        let output = self
            .command(ours, &args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| SetupError(format!("starting {}: {e}", ours.path.display())))?;
        check(ours, &args, &output)?;
        let created: serde_json::Value = serde_json::from_slice(&output.stdout).map_err(|e| {
            SetupError(format!(
                "`chc services create -o json` printed no JSON: {e}"
            ))
        })?;
        created["service"]["id"]
            .as_str()
            .or_else(|| created["id"].as_str())
            .map(str::to_owned)
            .ok_or_else(|| SetupError(format!("no service ID in {created}")))
    }
}

impl Drop for Startup {
    fn drop(&mut self) {
        if let Some(emulator) = self.emulator.take() {
            self.runtime.block_on(emulator.shutdown());
        }
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

fn check(program: &Program, args: &[String], output: &Output) -> Result<(), SetupError> {
    if output.status.success() {
        return Ok(());
    }
    Err(SetupError(format!(
        "`{} {}` ({}) failed with {}: {}",
        program.name,
        args.join(" "),
        program.path.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr).trim()
    )))
}

/// The programs named by the environment, `ours` always first.
fn programs() -> Result<Vec<Program>, SetupError> {
    let ours = match std::env::var_os("CHC_BIN") {
        Some(path) => PathBuf::from(path),
        None => beside_deps("chc")?,
    };
    if !ours.is_file() {
        return Err(SetupError(format!(
            "no `chc` at {}: build it first (`cargo build --release -p clickhouse-cloud-cli`) or set CHC_BIN",
            ours.display()
        )));
    }
    let mut programs = vec![Program {
        name: "ours",
        dialect: Dialect::Chc,
        path: ours,
    }];
    for (variable, name, dialect) in [
        (
            "CHC_BEFORE_GENERATED_BIN",
            "before_generated",
            Dialect::ChcBeforeGenerated,
        ),
        ("CLICKHOUSECTL_BIN", "clickhousectl", Dialect::Clickhousectl),
    ] {
        if let Some(path) = std::env::var_os(variable).filter(|p| !p.is_empty()) {
            let path = PathBuf::from(path);
            if !path.is_file() {
                return Err(SetupError(format!(
                    "{variable}: no file at {}",
                    path.display()
                )));
            }
            programs.push(Program {
                name,
                dialect,
                path,
            });
        }
    }
    Ok(programs)
}

/// `name` in the profile folder the running bench was built into
/// (`target/release/deps/startup-HASH` → `target/release/NAME`).
fn beside_deps(name: &str) -> Result<PathBuf, SetupError> {
    let exe = std::env::current_exe().map_err(|e| SetupError(format!("current_exe: {e}")))?;
    let profile = exe
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| SetupError(format!("no profile folder above {}", exe.display())))?;
    Ok(profile.join(name))
}
