//! `xtask/check-spec-exemptions.toml`: what `check-spec` is told to accept.
//!
//! ```toml
//! [not_yet_covered]
//! operations = ["serviceGetList"]   # spec operationIds without a Rust operation yet
//! schemas = ["Service"]             # spec component schemas without a Rust type yet
//!
//! [[deviation]]
//! item = "Envelope.requestId"       # `Schema.property`, an operationId, ...
//! kind = "format"                   # optional: only findings of this kind
//! reason = "why the Rust side deliberately differs"
//! ```
//!
//! A deviation matches a finding whose item is `item` or lies under it
//! (`item.`, `item[`, `item ` or `item<` follows), and, when `kind` is
//! given, whose kind has that name.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Deserialize;

use super::finding::{Finding, FindingKind};

/// A deliberate difference between the spec and the Rust types.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deviation {
    /// What it is about.
    pub item: String,
    /// Only findings of this kind (its `name`).
    #[serde(default)]
    pub kind: Option<String>,
    /// Why.
    pub reason: String,
}

impl Deviation {
    /// Whether this deviation covers `finding`.
    pub fn matches(&self, finding: &Finding) -> bool {
        let item_matches = finding.item == self.item
            || finding
                .item
                .strip_prefix(&self.item)
                .is_some_and(|rest| rest.starts_with(['.', '[', ' ', '<', '{']));
        item_matches
            && self
                .kind
                .as_deref()
                .is_none_or(|k| k == finding.kind.name())
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct NotYetCovered {
    #[serde(default)]
    operations: Vec<String>,
    #[serde(default)]
    schemas: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    not_yet_covered: NotYetCovered,
    #[serde(default, rename = "deviation")]
    deviations: Vec<Deviation>,
}

/// The parsed file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Exemptions {
    /// Spec operations the SDK does not cover yet.
    pub operations: BTreeSet<String>,
    /// Spec component schemas the SDK does not cover yet.
    pub schemas: BTreeSet<String>,
    /// Deliberate deviations.
    pub deviations: Vec<Deviation>,
    /// Properties named like secrets that were reviewed elsewhere as not
    /// secret (the `[[secrets.not]]` of `xtask/codegen.toml`).
    pub reviewed_not_secret: BTreeSet<String>,
}

/// Why the exemptions file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ExemptionsError {
    /// Unreadable.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Not valid TOML, or not the expected shape.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong (with line and column for syntax errors).
        message: String,
    },
}

impl Exemptions {
    /// Reads the file.
    pub fn load(path: &Path) -> Result<Exemptions, ExemptionsError> {
        let text = std::fs::read_to_string(path).map_err(|source| ExemptionsError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Exemptions::parse(&text, &path.display().to_string())
    }

    /// Parses the text; `path` names it in errors.
    pub fn parse(text: &str, path: &str) -> Result<Exemptions, ExemptionsError> {
        let invalid = |message: String| ExemptionsError::Invalid {
            path: path.to_owned(),
            message,
        };
        let file: File =
            toml::from_str(text).map_err(|e| invalid(e.to_string().trim().to_owned()))?;
        let mut out = Exemptions::default();
        for (list, set, what) in [
            (
                file.not_yet_covered.operations,
                &mut out.operations,
                "operations",
            ),
            (file.not_yet_covered.schemas, &mut out.schemas, "schemas"),
        ] {
            for name in list {
                if !set.insert(name.clone()) {
                    return Err(invalid(format!(
                        "not_yet_covered.{what} lists `{name}` twice"
                    )));
                }
            }
        }
        for deviation in &file.deviations {
            if deviation.item.trim().is_empty() {
                return Err(invalid("a deviation has an empty `item`".into()));
            }
            if deviation.reason.trim().is_empty() {
                return Err(invalid(format!(
                    "the deviation for `{}` needs a reason",
                    deviation.item
                )));
            }
            if let Some(kind) = &deviation.kind
                && !FindingKind::ALL.iter().any(|k| k.name() == kind)
            {
                let names: Vec<&str> = FindingKind::ALL.iter().map(|k| k.name()).collect();
                return Err(invalid(format!(
                    "the deviation for `{}` has unknown kind `{kind}` (one of: {})",
                    deviation.item,
                    names.join(", ")
                )));
            }
        }
        out.deviations = file.deviations;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"
[not_yet_covered]
operations = ["a", "b"]
schemas = ["S"]

[[deviation]]
item = "Envelope.requestId"
kind = "format"
reason = "kept opaque"

[[deviation]]
item = "opX"
reason = "whatever differs"
"#;

    fn finding(kind: FindingKind, item: &str) -> Finding {
        Finding {
            kind,
            item: item.into(),
            expected: String::new(),
            found: String::new(),
        }
    }

    #[test]
    fn parses_lists_and_deviations() {
        let e = Exemptions::parse(TEXT, "x.toml").unwrap();
        assert_eq!(e.operations.len(), 2);
        assert!(e.schemas.contains("S"));
        assert_eq!(e.deviations.len(), 2);
        assert!(e.deviations[0].matches(&finding(FindingKind::Format, "Envelope.requestId")));
        assert!(!e.deviations[0].matches(&finding(FindingKind::Type, "Envelope.requestId")));
        assert!(!e.deviations[0].matches(&finding(FindingKind::Format, "Envelope.requestIds")));
        assert!(e.deviations[1].matches(&finding(FindingKind::Type, "opX query limit")));
        assert!(e.deviations[1].matches(&finding(FindingKind::Method, "opX")));
        assert!(!e.deviations[1].matches(&finding(FindingKind::Method, "opXY")));
    }

    #[test]
    fn mistakes_are_reported() {
        let cases = [
            (
                "[not_yet_covered]\noperations = [\"a\", \"a\"]",
                "lists `a` twice",
            ),
            (
                "[[deviation]]\nitem = \"x\"\nreason = \" \"",
                "needs a reason",
            ),
            (
                "[[deviation]]\nitem = \"x\"\nkind = \"bogus\"\nreason = \"r\"",
                "unknown kind `bogus`",
            ),
            (
                "[not_yet_covered]\nopertions = []",
                "unknown field `opertions`",
            ),
            ("[not_yet_covered\n", "line 1"),
        ];
        for (text, expected) in cases {
            let error = Exemptions::parse(text, "x.toml").unwrap_err().to_string();
            assert!(error.starts_with("x.toml: "), "{error}");
            assert!(error.contains(expected), "{text:?}: {error}");
        }
    }
}
