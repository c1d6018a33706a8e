//! Loading a spec file: JSON, then [`normalize`], then
//! `openapiv3`.

use std::path::Path;

use openapiv3::OpenAPI;
use serde_json::Value;

use super::normalize::{self, Issue};

/// Why a spec did not load. Every variant names the file (`origin`).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("{origin}: {source}")]
    Io {
        /// The file.
        origin: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Not JSON, or cut short.
    #[error("{origin}:{line}:{column}: {what}: {message}")]
    Json {
        /// The file.
        origin: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// `invalid JSON`, or `the file ends early (truncated?)`.
        what: &'static str,
        /// serde_json's message.
        message: String,
    },
    /// Valid JSON, but not an object.
    #[error("{origin}: an OpenAPI document is a JSON object, found {found}")]
    NotAnObject {
        /// The file.
        origin: String,
        /// What the top-level value is.
        found: &'static str,
    },
    /// `openapi` is missing or not 3.0/3.1.
    #[error("{origin}: #/openapi: expected an OpenAPI 3.0 or 3.1 version, found {found}")]
    Version {
        /// The file.
        origin: String,
        /// What was found.
        found: String,
    },
    /// The normalisation refused something.
    #[error(
        "{origin}: {} problem(s) the loader does not handle:\n  {}",
        .issues.len(),
        .issues.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n  ")
    )]
    Normalize {
        /// The file.
        origin: String,
        /// Every problem, with its JSON pointer.
        issues: Vec<Issue>,
    },
    /// `openapiv3` refused the normalised document.
    #[error("{origin}: {path}: {message}")]
    OpenApi {
        /// The file.
        origin: String,
        /// JSON pointer of the failing value.
        path: String,
        /// serde's message.
        message: String,
    },
}

/// Loads a spec file.
pub fn load_file(path: &Path) -> Result<OpenAPI, LoadError> {
    let origin = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
        origin: origin.clone(),
        source,
    })?;
    load_bytes(&bytes, &origin)
}

/// Loads a spec from its bytes; `origin` names it in errors.
pub fn load_bytes(bytes: &[u8], origin: &str) -> Result<OpenAPI, LoadError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| json_error(&e, origin))?;
    load_value(value, origin)
}

/// Loads a spec from parsed JSON (tests mutate the JSON first).
pub fn load_value(mut value: Value, origin: &str) -> Result<OpenAPI, LoadError> {
    if !value.is_object() {
        return Err(LoadError::NotAnObject {
            origin: origin.to_owned(),
            found: normalize::kind_of(&value),
        });
    }
    match value.get("openapi") {
        Some(Value::String(v)) if v.starts_with("3.1.") || v.starts_with("3.0.") => {}
        Some(other) => {
            return Err(LoadError::Version {
                origin: origin.to_owned(),
                found: other.to_string(),
            });
        }
        None => {
            return Err(LoadError::Version {
                origin: origin.to_owned(),
                found: "no `openapi` key".into(),
            });
        }
    }
    normalize::normalize(&mut value).map_err(|issues| LoadError::Normalize {
        origin: origin.to_owned(),
        issues,
    })?;
    serde_path_to_error::deserialize(value).map_err(|e| LoadError::OpenApi {
        origin: origin.to_owned(),
        path: pointer(e.path()),
        message: e.inner().to_string(),
    })
}

fn json_error(error: &serde_json::Error, origin: &str) -> LoadError {
    let text = error.to_string();
    let message = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(m, _)| m)
        .to_owned();
    LoadError::Json {
        origin: origin.to_owned(),
        line: error.line(),
        column: error.column(),
        what: if error.is_eof() {
            "the file ends early (truncated?)"
        } else {
            "invalid JSON"
        },
        message,
    }
}

fn pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::from("#");
    for segment in path.iter() {
        out.push('/');
        match segment {
            Segment::Seq { index } => out.push_str(&index.to_string()),
            Segment::Map { key } => out.push_str(&normalize::escape(key)),
            Segment::Enum { variant } => out.push_str(&normalize::escape(variant)),
            Segment::Unknown => out.push('?'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(bytes: &str) -> String {
        load_bytes(bytes.as_bytes(), "spec.json")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn broken_files_give_positions() {
        assert_eq!(
            error("{\"openapi\": \"3.1.0\",\n  \"info\": {"),
            "spec.json:2:11: the file ends early (truncated?): EOF while parsing an object"
        );
        let message = error("{\"a\": tru}");
        assert!(message.starts_with("spec.json:1:"), "{message}");
        assert!(message.contains("invalid JSON"), "{message}");
        assert!(error("").starts_with("spec.json:1:0: the file ends early"));
        assert!(error("\u{feff}{}").starts_with("spec.json:1:1: invalid JSON"));
    }

    #[test]
    fn wrong_shapes_are_named() {
        assert_eq!(
            error("[1]"),
            "spec.json: an OpenAPI document is a JSON object, found an array"
        );
        assert_eq!(
            error("{\"swagger\": \"2.0\"}"),
            "spec.json: #/openapi: expected an OpenAPI 3.0 or 3.1 version, found no `openapi` key"
        );
        assert!(error("{\"openapi\": \"4.0.0\"}").contains("found \"4.0.0\""));
    }

    #[test]
    fn openapiv3_errors_carry_a_path() {
        let text = r#"{"openapi": "3.1.0", "info": {"title": 1, "version": "1"}, "paths": {}}"#;
        let message = error(text);
        assert!(
            message.starts_with("spec.json: #/info/title: invalid type"),
            "{message}"
        );
    }

    #[test]
    fn a_minimal_document_loads() {
        let text = r#"{"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {}}"#;
        let api = load_bytes(text.as_bytes(), "spec.json").unwrap();
        assert_eq!(api.info.title, "t");
    }
}

#[cfg(test)]
mod pinned_spec_tests {
    use super::*;

    #[test]
    fn the_pinned_spec_loads_whole() {
        let api = load_file(&crate::testing::pinned_spec()).unwrap();
        let operations = api.operations().count();
        let schemas = api.components.as_ref().map_or(0, |c| c.schemas.len());
        // Counted in the JSON as published: the loader drops nothing.
        let raw = crate::testing::pinned_spec_json();
        let methods = [
            "get", "put", "post", "delete", "options", "head", "patch", "trace",
        ];
        let raw_operations = raw["paths"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|item| item.as_object().unwrap().keys())
            .filter(|key| methods.contains(&key.as_str()))
            .count();
        let raw_schemas = raw["components"]["schemas"].as_object().unwrap().len();
        assert!(raw_operations > 0 && raw_schemas > 0);
        assert_eq!((operations, schemas), (raw_operations, raw_schemas));
    }

    #[test]
    fn a_truncated_copy_of_the_pinned_spec_is_refused_with_a_position() {
        let bytes = std::fs::read(crate::testing::pinned_spec()).unwrap();
        let half = &bytes[..bytes.len() / 2];
        match load_bytes(half, "half.json") {
            Err(LoadError::Json { line, what, .. }) => {
                assert!(line > 1);
                assert!(what.contains("truncated"));
            }
            other => panic!("expected a JSON error, got {other:?}"),
        }
    }
}
