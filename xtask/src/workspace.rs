//! Where things live, relative to the workspace root.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};

/// The workspace root: the folder above `xtask/`.
pub fn root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// `specs/` under the root.
pub fn specs_dir(root: &Path) -> PathBuf {
    root.join("specs")
}

/// The pin file, `specs/spec.pin`.
pub fn pin_file(root: &Path) -> PathBuf {
    specs_dir(root).join("spec.pin")
}

/// Where the fetched spec goes (git-ignored).
pub fn spec_file(root: &Path) -> PathBuf {
    specs_dir(root).join("clickhouse-cloud-openapi.json")
}

/// The folder of spec snapshots beside the workspace (`../shared/specs`),
/// whose files are told apart by their sha256, not their names.
pub fn shared_specs_dir(root: &Path) -> Option<PathBuf> {
    root.parent().map(|parent| parent.join("shared/specs"))
}

/// The check-spec exemptions file.
pub fn exemptions_file(root: &Path) -> PathBuf {
    root.join("xtask/check-spec-exemptions.toml")
}

/// A path shown relative to the root when it is under it.
pub fn display(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The cargo that runs us: `$CARGO`, else `cargo` from the `PATH`.
pub fn cargo_program() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// Runs the cargo that runs us (`$CARGO`, else `cargo`) with `args` and
/// extra `env` in the workspace at `root`, and waits for it.
pub fn cargo<I, S>(root: &Path, args: I, env: &[(&str, &str)]) -> std::io::Result<ExitStatus>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Command::new(cargo_program())
        .args(args)
        .envs(env.iter().copied())
        .current_dir(root)
        .status()
}
