//! `cargo xtask check-spec`: do the Rust types match the spec?
//!
//! The Rust side is read from the types themselves ([`rust`]), the spec
//! through the loader ([`crate::spec`]); [`check`] compares them and applies
//! the exemptions file ([`exemptions`]); both speak [`finding`]s.

pub mod check;
pub mod exemptions;
pub mod finding;
pub mod rust;
pub mod secret_names;

#[cfg(test)]
mod tests;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::cli::Format;
use crate::spec::fetch::{FetchError, FetchOptions, fetch_spec, sha256_hex};
use crate::spec::{SpecError, load_model};
use crate::workspace;
use check::Report;
use exemptions::{Exemptions, ExemptionsError};

/// What `check-spec` was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// `--spec PATH`: check this file (no pin check).
    pub spec: Option<PathBuf>,
    /// `--exemptions PATH` (default `xtask/check-spec-exemptions.toml`).
    pub exemptions: Option<PathBuf>,
    /// `--format`.
    pub format: Format,
    /// `--print-uncovered`: print a `[not_yet_covered]` section instead.
    pub print_uncovered: bool,
}

/// Why the check could not run (exit status 2).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The pinned spec could not be put in place.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The spec did not load.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// The exemptions file is unusable.
    #[error(transparent)]
    Exemptions(#[from] ExemptionsError),
    /// The Rust side could not be read.
    #[error(transparent)]
    Inventory(#[from] rust::InventoryError),
    /// `xtask/codegen.toml` (its reviewed `[[secrets.not]]`) is unusable.
    #[error("{0}")]
    Overrides(String),
    /// The spec file could not be read for its hash.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// The output, and whether there were findings.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// What to print.
    pub output: String,
    /// The report.
    pub report: Report,
}

/// Runs the check for the workspace at `root`.
pub fn run(root: &Path, options: &Options) -> Result<Outcome, CheckError> {
    let spec_path = match &options.spec {
        Some(path) => path.clone(),
        None => fetch_spec(root, &FetchOptions::default())?.path,
    };
    let exemptions_path = options
        .exemptions
        .clone()
        .unwrap_or_else(|| workspace::exemptions_file(root));
    let bytes = std::fs::read(&spec_path).map_err(|source| CheckError::Io {
        path: spec_path.display().to_string(),
        source,
    })?;
    let spec = load_model(&spec_path)?;
    let rust = rust::inventory(root)?;
    let spec_name = workspace::display(root, &spec_path);
    if options.print_uncovered {
        let report = check::check(&spec, &rust, &Exemptions::default());
        return Ok(Outcome {
            output: uncovered_toml(&report, &spec_name),
            report,
        });
    }
    let exemptions = load_exemptions(root, &exemptions_path)?;
    let report = check::check(&spec, &rust, &exemptions);
    let header = format!(
        "check-spec: {spec_name} (sha256 {}) against {}",
        sha256_hex(&bytes),
        workspace::display(root, &exemptions_path)
    );
    let output = match options.format {
        Format::Text => to_text(&report, &header),
        Format::Json => format!("{:#}\n", to_json(&report, &spec_name)),
    };
    Ok(Outcome { output, report })
}

/// The exemptions file at `path`, with the `[[secrets.not]]` decisions of
/// `xtask/codegen.toml` counted as reviewed (each has its reason there).
pub fn load_exemptions(root: &Path, path: &Path) -> Result<Exemptions, CheckError> {
    let mut exemptions = Exemptions::load(path)?;
    let overrides =
        crate::codegen::overrides::Overrides::load(&root.join(crate::codegen::OVERRIDES))
            .map_err(|e| CheckError::Overrides(e.to_string()))?;
    exemptions
        .reviewed_not_secret
        .extend(overrides.secrets.not.into_iter().map(|d| d.item));
    Ok(exemptions)
}

/// The report for people: findings grouped by kind, then the summary line.
pub fn to_text(report: &Report, header: &str) -> String {
    let mut out = format!("{header}\n");
    for kind in check::FindingKind::ALL {
        let group: Vec<_> = report.findings.iter().filter(|f| f.kind == *kind).collect();
        if group.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{} ({}):", kind.title(), group.len());
        for finding in group {
            let _ = writeln!(
                out,
                "  {}: expected {}, found {}",
                finding.item, finding.expected, finding.found
            );
        }
    }
    let used: Vec<_> = report
        .deviations
        .iter()
        .filter(|d| !d.matched.is_empty())
        .collect();
    if !used.is_empty() {
        let _ = writeln!(out, "\nDeviations applied ({}):", used.len());
        for d in used {
            let _ = writeln!(
                out,
                "  {} ({} finding(s)): {}",
                d.deviation.item,
                d.matched.len(),
                d.deviation.reason
            );
        }
    }
    if !report.secrets.is_empty() {
        let _ = writeln!(
            out,
            "\nSecret fields, typed SecretValue ({}):\n  {}",
            report.secrets.len(),
            report.secrets.join("\n  ")
        );
    }
    let _ = writeln!(out, "\n{}", report.summary());
    out
}

/// The report for tools.
pub fn to_json(report: &Report, spec_name: &str) -> serde_json::Value {
    let finding = |f: &check::Finding| json!({"kind": f.kind.name(), "item": f.item, "expected": f.expected, "found": f.found});
    json!({
        "spec": spec_name,
        "operations": {"covered": report.operations_covered, "total": report.operations_total},
        "schemas": {"covered": report.schemas_covered, "total": report.schemas_total},
        "findings": report.findings.iter().map(finding).collect::<Vec<_>>(),
        "deviations": report.deviations.iter().map(|d| json!({
            "item": d.deviation.item,
            "kind": d.deviation.kind,
            "reason": d.deviation.reason,
            "matched": d.matched.iter().map(finding).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "secrets": report.secrets,
        "summary": report.summary(),
    })
}

/// A `[not_yet_covered]` section listing everything the SDK does not cover.
pub fn uncovered_toml(report: &Report, spec_name: &str) -> String {
    let list = |names: &[String]| {
        let mut out = String::from("[\n");
        for name in names {
            let _ = writeln!(out, "    \"{name}\",");
        }
        out.push(']');
        out
    };
    format!(
        "# Generated by `cargo xtask check-spec --print-uncovered` from {spec_name}.\n\
         [not_yet_covered]\n\
         # Spec operations without a Rust operation ({} of {}).\n\
         operations = {}\n\
         # Spec component schemas without a Rust type ({} of {}).\n\
         schemas = {}\n",
        report.uncovered_operations.len(),
        report.operations_total,
        list(&report.uncovered_operations),
        report.uncovered_schemas.len(),
        report.schemas_total,
        list(&report.uncovered_schemas),
    )
}
