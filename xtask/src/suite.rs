//! `cargo xtask conformance` and `cargo xtask record`: the conformance
//! suite's two binaries, run from the workspace root with paths made
//! absolute first, so `--cassettes DIR` means what it says from any
//! directory.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;

use crate::spec::fetch::{FetchError, FetchOptions, fetch_spec};

/// What the conformance runner is asked to do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConformanceOptions {
    /// Cassette directory; the suite's own when `None`.
    pub cassettes: Option<PathBuf>,
    /// Fail when a cassette drifted from the pinned spec.
    pub fail_on_drift: bool,
    /// Print passing cassettes and notes too.
    pub verbose: bool,
}

/// What the recorder is asked to do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordOptions {
    /// Record against the live service instead of the emulator.
    pub live: bool,
    /// Output directory; the suite's own when `None`.
    pub out: Option<PathBuf>,
}

/// Why a suite command could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SuiteError {
    /// The pinned spec could not be put in place.
    #[error("fetch-spec: {0}")]
    Fetch(#[from] FetchError),
    /// The working directory is unknown, so a relative path cannot be resolved.
    #[error("cannot resolve {path}: {source}")]
    Resolve {
        /// The path given.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// cargo did not start.
    #[error("cannot start cargo: {0}")]
    Spawn(std::io::Error),
}

/// `path` as an absolute path, relative ones taken from the current directory.
fn absolute(path: &Path) -> Result<PathBuf, SuiteError> {
    std::path::absolute(path).map_err(|source| SuiteError::Resolve {
        path: path.to_owned(),
        source,
    })
}

/// The `cargo` arguments that run the conformance runner on the pinned spec.
pub fn conformance_args(
    root: &Path,
    options: &ConformanceOptions,
) -> Result<Vec<OsString>, SuiteError> {
    let mut args = bin_args("conformance");
    args.push("--spec".into());
    args.push(crate::workspace::spec_file(root).into());
    if let Some(dir) = &options.cassettes {
        args.push("--cassettes".into());
        args.push(absolute(dir)?.into());
    }
    if options.fail_on_drift {
        args.push("--fail-on-drift".into());
    }
    if options.verbose {
        args.push("--verbose".into());
    }
    Ok(args)
}

/// The `cargo` arguments that run the recorder.
pub fn record_args(options: &RecordOptions) -> Result<Vec<OsString>, SuiteError> {
    let mut args = bin_args("record");
    if options.live {
        args.push("--live".into());
    }
    if let Some(dir) = &options.out {
        args.push("--out".into());
        args.push(absolute(dir)?.into());
    }
    Ok(args)
}

fn bin_args(bin: &str) -> Vec<OsString> {
    [
        "run",
        "--quiet",
        "-p",
        "clickhouse-cloud-conformance",
        "--bin",
        bin,
        "--",
    ]
    .into_iter()
    .map(OsString::from)
    .collect()
}

/// Fetches the pinned spec, then replays the cassettes; the runner prints
/// its own report and `N passed, M failed, D drifted`.
pub fn conformance(root: &Path, options: &ConformanceOptions) -> Result<ExitStatus, SuiteError> {
    fetch_spec(root, &FetchOptions::default())?;
    crate::workspace::cargo(root, conformance_args(root, options)?, &[]).map_err(SuiteError::Spawn)
}

/// Runs the recorder's scenarios and writes cassettes.
pub fn record(root: &Path, options: &RecordOptions) -> Result<ExitStatus, SuiteError> {
    crate::workspace::cargo(root, record_args(options)?, &[]).map_err(SuiteError::Spawn)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: Vec<OsString>) -> Vec<String> {
        args.into_iter().map(|a| a.into_string().unwrap()).collect()
    }

    #[test]
    fn conformance_uses_the_pinned_spec_and_absolute_cassette_paths() {
        let root = Path::new("/ws");
        let options = ConformanceOptions {
            cassettes: Some(PathBuf::from("my-cassettes")),
            fail_on_drift: true,
            verbose: true,
        };
        let args = strings(conformance_args(root, &options).unwrap());
        let spec_at = args.iter().position(|a| a == "--spec").unwrap();
        assert_eq!(
            Path::new(&args[spec_at + 1]),
            crate::workspace::spec_file(root)
        );
        let dir_at = args.iter().position(|a| a == "--cassettes").unwrap();
        let dir = Path::new(&args[dir_at + 1]);
        assert!(dir.is_absolute(), "{dir:?}");
        assert!(dir.ends_with("my-cassettes"));
        assert!(args.contains(&"--fail-on-drift".to_owned()));
        assert_eq!(args.last().map(String::as_str), Some("--verbose"));
    }

    #[test]
    fn conformance_defaults_to_the_suites_own_cassettes() {
        let args = strings(conformance_args(Path::new("/ws"), &Default::default()).unwrap());
        assert!(!args.contains(&"--cassettes".to_owned()));
        assert!(!args.contains(&"--fail-on-drift".to_owned()));
        assert!(args.contains(&"conformance".to_owned()));
    }

    #[test]
    fn record_passes_live_and_out() {
        let options = RecordOptions {
            live: true,
            out: Some(PathBuf::from("out")),
        };
        let args = strings(record_args(&options).unwrap());
        assert!(args.contains(&"--live".to_owned()));
        let out_at = args.iter().position(|a| a == "--out").unwrap();
        assert!(Path::new(&args[out_at + 1]).is_absolute());
        let plain = strings(record_args(&RecordOptions::default()).unwrap());
        assert!(!plain.contains(&"--live".to_owned()) && !plain.contains(&"--out".to_owned()));
    }
}
