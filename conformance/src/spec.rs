//! The OpenAPI document as a JSON Schema, to validate recorded bodies.
//!
//! The whole document is the root schema (its `paths`, `components` and
//! other top-level members are keywords JSON Schema ignores), with a
//! `$ref` added at the top pointing at one response schema, so that every
//! `#/components/schemas/...` reference inside resolves. Draft 2020-12,
//! formats checked.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value;

use crate::path::json_path_of_pointer;

/// The spec file, relative to the workspace root.
pub const SPEC_FILE: &str = "specs/clickhouse-cloud-openapi.json";
/// The read-only copy beside the workspace, relative to the workspace root.
pub const SHARED_SPEC_FILE: &str = "../shared/specs/clickhouse-cloud-openapi.json";

/// Why the spec cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError(pub String);

impl std::fmt::Display for SpecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SpecError {}

/// One place where a body does not match its schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// JSON path in the body, e.g. `result[0].createdAt`.
    pub path: String,
    /// What the validator said.
    pub message: String,
}

/// The loaded spec, with a cache of compiled response validators.
#[derive(Debug)]
pub struct Spec {
    document: Value,
    /// `operationId` -> (path template, lower-case method).
    operations: HashMap<String, (String, String)>,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

/// The candidate locations of the spec for a workspace rooted at `root`, in
/// the order they are tried.
pub fn candidates(root: &Path) -> [PathBuf; 2] {
    [root.join(SPEC_FILE), root.join(SHARED_SPEC_FILE)]
}

/// Finds the spec: `specs/…` in the workspace, else `../shared/specs/…`
/// beside it. The error names both places.
pub fn locate(root: &Path) -> Result<PathBuf, SpecError> {
    let tried = candidates(root);
    tried
        .iter()
        .find(|path| path.is_file())
        .cloned()
        .ok_or_else(|| {
            SpecError(format!(
                "no OpenAPI spec found: looked for {} and {}; run `cargo xtask fetch-spec`",
                tried[0].display(),
                tried[1].display()
            ))
        })
}

impl Spec {
    /// Loads the spec of the workspace rooted at `root` (see [`locate`]).
    pub fn load_for_workspace(root: &Path) -> Result<Self, SpecError> {
        Self::load(&locate(root)?)
    }

    /// Loads a spec file.
    pub fn load(path: &Path) -> Result<Self, SpecError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| SpecError(format!("{}: {e}", path.display())))?;
        let document: Value = serde_json::from_str(&text)
            .map_err(|e| SpecError(format!("{}: not JSON: {e}", path.display())))?;
        Self::from_document(document)
            .map_err(|SpecError(message)| SpecError(format!("{}: {message}", path.display())))
    }

    /// Uses an already parsed document.
    pub fn from_document(document: Value) -> Result<Self, SpecError> {
        let paths = document
            .get("paths")
            .and_then(Value::as_object)
            .ok_or_else(|| SpecError("the document has no `paths`".into()))?;
        let mut operations = HashMap::new();
        for (template, item) in paths {
            let Some(item) = item.as_object() else {
                continue;
            };
            for (method, operation) in item {
                if let Some(id) = operation.get("operationId").and_then(Value::as_str) {
                    operations.insert(id.to_owned(), (template.clone(), method.clone()));
                }
            }
        }
        Ok(Self {
            document,
            operations,
            validators: Mutex::default(),
        })
    }

    /// The whole document.
    pub fn document(&self) -> &Value {
        &self.document
    }

    /// The path template and method (lower case) of an operation.
    pub fn operation(&self, id: &str) -> Option<(&str, &str)> {
        self.operations
            .get(id)
            .map(|(path, method)| (path.as_str(), method.as_str()))
    }

    /// The JSON pointer (URI fragment form) of the JSON response schema the
    /// body of `status` is checked against: the status's own when declared,
    /// else the operation's `400` error schema (`200` for an undeclared
    /// success status).
    pub fn response_schema_pointer(&self, id: &str, status: u16) -> Result<String, SpecError> {
        let (template, method) = self
            .operation(id)
            .ok_or_else(|| SpecError(format!("operation {id:?} is not in the spec")))?;
        let responses = &self.document["paths"][template][method]["responses"];
        let declared = |code: &str| {
            responses
                .get(code)
                .and_then(|r| r.pointer("/content/application~1json/schema"))
                .is_some()
        };
        let own = status.to_string();
        let fallback = if (200..300).contains(&status) {
            "200"
        } else {
            "400"
        };
        let code = [own.as_str(), fallback]
            .into_iter()
            .find(|code| declared(code))
            .ok_or_else(|| {
                SpecError(format!(
                    "{id} declares no JSON schema for status {status} nor {fallback}"
                ))
            })?;
        let pointer = ["paths", template, method, "responses", code]
            .iter()
            .map(|segment| escape_segment(segment))
            .collect::<Vec<_>>()
            .join("/");
        Ok(format!("#/{pointer}/content/application~1json/schema"))
    }

    /// Checks a response body of operation `id` with `status` against the
    /// spec; every violation is returned, with its JSON path in the body.
    pub fn validate(
        &self,
        id: &str,
        status: u16,
        body: &Value,
    ) -> Result<Vec<Violation>, SpecError> {
        let pointer = self.response_schema_pointer(id, status)?;
        let validator = self.validator(&pointer)?;
        let mut violations: Vec<Violation> = validator
            .iter_errors(body)
            .map(|error| Violation {
                path: json_path_of_pointer(body, error.instance_path.as_str()),
                message: error.to_string(),
            })
            .collect();
        violations.sort_by(|a, b| (&a.path, &a.message).cmp(&(&b.path, &b.message)));
        violations.dedup();
        Ok(violations)
    }

    fn validator(&self, pointer: &str) -> Result<Arc<jsonschema::Validator>, SpecError> {
        let mut cache = self
            .validators
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(validator) = cache.get(pointer) {
            return Ok(Arc::clone(validator));
        }
        let mut root = self.document.clone();
        if let Some(object) = root.as_object_mut() {
            object.insert("$ref".into(), Value::String(pointer.to_owned()));
        }
        let validator = jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&root)
            .map_err(|e| SpecError(format!("the schema at {pointer} does not compile: {e}")))?;
        let validator = Arc::new(validator);
        cache.insert(pointer.to_owned(), Arc::clone(&validator));
        Ok(validator)
    }
}

/// One JSON pointer segment, escaped (`~0`, `~1`) and percent-encoded where
/// a URI fragment needs it (`{`, `}`, `%`, space …).
fn escape_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len() + 8);
    for c in segment.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c if c.is_ascii_alphanumeric() || "-._!$&'()*+,;=:@".contains(c) => out.push(c),
            c => {
                let mut buf = [0; 4];
                for byte in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("%{byte:02X}"));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use serde_json::json;

    fn tiny() -> Spec {
        let error = json!({"content": {"application/json": {"schema": {
            "type": "object",
            "properties": {"error": {"type": "string"}, "requestId": {"type": "string", "format": "uuid"}}
        }}}});
        Spec::from_document(json!({
            "openapi": "3.1.0",
            "paths": {"/v1/things/{id}": {"get": {
                "operationId": "thingGet",
                "responses": {
                    "200": {"content": {"application/json": {"schema": {
                        "type": "object",
                        "properties": {"result": {"$ref": "#/components/schemas/Thing"}}
                    }}}},
                    "400": error
                }
            }}},
            "components": {"schemas": {"Thing": {
                "type": "object",
                "properties": {"createdAt": {"type": "string", "format": "date-time"}}
            }}}
        }))
        .unwrap()
    }

    #[test]
    fn references_resolve_and_formats_are_checked() {
        let spec = tiny();
        let ok = json!({"result": {"createdAt": "2026-01-02T03:04:05Z"}});
        assert_eq!(spec.validate("thingGet", 200, &ok).unwrap(), vec![]);
        let wrong_type = json!({"result": {"createdAt": 42}});
        let found = spec.validate("thingGet", 200, &wrong_type).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].path, "result.createdAt");
        let wrong_format = json!({"result": {"createdAt": "yesterday"}});
        assert_eq!(
            spec.validate("thingGet", 200, &wrong_format).unwrap()[0].path,
            "result.createdAt"
        );
    }

    #[test]
    fn undeclared_statuses_use_the_400_schema() {
        let spec = tiny();
        assert_eq!(
            spec.response_schema_pointer("thingGet", 404).unwrap(),
            "#/paths/~1v1~1things~1%7Bid%7D/get/responses/400/content/application~1json/schema"
        );
        let found = spec
            .validate("thingGet", 429, &json!({"error": 1, "requestId": "r-1"}))
            .unwrap();
        let paths: Vec<&str> = found.iter().map(|v| v.path.as_str()).collect();
        assert_eq!(paths, ["error", "requestId"]);
        assert!(spec.validate("otherGet", 200, &json!({})).is_err());
    }

    #[test]
    fn a_missing_spec_names_both_places() {
        let root = Path::new("/nonexistent/workspace");
        let error = locate(root).unwrap_err();
        assert!(
            error
                .0
                .contains("/nonexistent/workspace/specs/clickhouse-cloud-openapi.json")
        );
        assert!(
            error
                .0
                .contains("/nonexistent/workspace/../shared/specs/clickhouse-cloud-openapi.json")
        );
    }

    #[test]
    fn segments_are_escaped_for_a_fragment() {
        assert_eq!(
            escape_segment("/v1/organizations/{organizationId}/keys"),
            "~1v1~1organizations~1%7BorganizationId%7D~1keys"
        );
        assert_eq!(escape_segment("a~b c"), "a~0b%20c");
    }
}
