//! The OpenAPI document as a JSON Schema, to validate recorded bodies.
//!
//! The whole document is the root schema (its `paths`, `components` and
//! other top-level members are keywords JSON Schema ignores), with a
//! `$ref` added at the top pointing at one response schema, so that every
//! `#/components/schemas/...` reference inside resolves. Draft 2020-12,
//! formats checked.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value;

use crate::path::json_path_of_pointer;

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
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Violation {
    /// JSON path in the body, e.g. `result[0].createdAt`.
    pub path: String,
    /// What the validator said.
    pub message: String,
    /// Whether a newer server explains it.
    pub kind: ViolationKind,
}

/// What a violation says about the recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ViolationKind {
    /// What a server ahead of the pinned spec sends: a value its `enum` or
    /// `const` does not list, or a property a schema closed to others does
    /// not declare. The recording has drifted from the pin.
    Drift,
    /// Anything else (a wrong type or format, a missing required field): the
    /// recording does not match the spec.
    Mismatch,
}

impl ViolationKind {
    fn of(kind: &jsonschema::error::ValidationErrorKind) -> Self {
        use jsonschema::error::ValidationErrorKind as K;
        match kind {
            K::Enum { .. }
            | K::Constant { .. }
            | K::AdditionalProperties { .. }
            | K::UnevaluatedProperties { .. } => ViolationKind::Drift,
            _ => ViolationKind::Mismatch,
        }
    }
}

/// The loaded spec, with a cache of compiled response validators.
#[derive(Debug)]
pub struct Spec {
    document: Value,
    /// `operationId` -> (path template, lower-case method).
    operations: HashMap<String, (String, String)>,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
    /// The document indexed once as a schema resource, for every validator.
    registry: std::sync::OnceLock<Result<jsonschema::Registry, String>>,
}

/// Where the document sits in the validators' registry.
const SPEC_URI: &str = "urn:clickhouse-cloud:spec";

impl Spec {
    /// Loads the pinned spec of the workspace rooted at `root`, putting it
    /// in place first as `cargo xtask fetch-spec` does (from
    /// `$CLICKHOUSE_CLOUD_SPEC`, the shared copy or the pinned URL, checked
    /// against `specs/spec.pin`): xtask alone says where it lives.
    pub fn load_pinned(root: &Path) -> Result<Self, SpecError> {
        let fetched = xtask::spec::fetch::fetch_spec(root, &Default::default())
            .map_err(|e| SpecError(format!("the pinned spec: {e}")))?;
        Self::load(&fetched.path)
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
            registry: std::sync::OnceLock::new(),
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
                kind: ViolationKind::of(&error.kind),
            })
            .collect();
        violations.sort();
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
        let registry = self
            .registry
            .get_or_init(|| {
                let resource =
                    jsonschema::Draft::Draft202012.create_resource(self.document.clone());
                jsonschema::Registry::options()
                    .draft(jsonschema::Draft::Draft202012)
                    .build([(SPEC_URI, resource)])
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| SpecError(format!("the spec does not index as a schema: {e}")))?;
        let root = serde_json::json!({ "$ref": format!("{SPEC_URI}{pointer}") });
        let validator = jsonschema::draft202012::options()
            .should_validate_formats(true)
            .with_registry(registry.clone())
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
    fn without_a_pin_there_is_no_spec() {
        let root = tempfile::tempdir().unwrap();
        let error = Spec::load_pinned(root.path()).unwrap_err();
        assert!(error.0.starts_with("the pinned spec: "), "{error}");
        assert!(error.0.contains("spec.pin"), "{error}");
    }

    #[test]
    fn values_and_fields_the_pin_lacks_are_drift_the_rest_mismatch() {
        let spec = Spec::from_document(json!({
            "paths": {"/v1/things": {"get": {
                "operationId": "thingGet",
                "responses": {"200": {"content": {"application/json": {"schema": {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {
                        "state": {"type": "string", "enum": ["on", "off"]},
                        "count": {"type": "integer"}
                    }
                }}}}}
            }}}
        }))
        .unwrap();
        let body = json!({"state": "dimmed", "count": "3", "colour": "red"});
        let found: Vec<(String, ViolationKind)> = spec
            .validate("thingGet", 200, &body)
            .unwrap()
            .into_iter()
            .map(|v| (v.path, v.kind))
            .collect();
        assert_eq!(
            found,
            [
                (".".to_owned(), ViolationKind::Drift),
                ("count".to_owned(), ViolationKind::Mismatch),
                ("state".to_owned(), ViolationKind::Drift),
            ]
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
