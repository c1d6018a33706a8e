//! `cargo xtask spec-diff OLD NEW`: what changed between two spec files.

pub mod changelog;

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde_json::json;

use crate::spec::compare::{Change, ChangeKind, Comparer, Mode};
use crate::spec::model::{OperationModel, Param, SpecModel, Success};

/// One operation, as listed in the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationSummary {
    /// `operationId`.
    pub id: String,
    /// Method.
    pub method: String,
    /// Path template.
    pub path: String,
    /// Beta badge.
    pub beta: bool,
}

/// What changed about an operation as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum OperationAspect {
    /// HTTP method.
    Method,
    /// Path template.
    Path,
    /// Beta badge.
    Beta,
    /// Deprecation.
    Deprecated,
    /// A parameter appeared.
    ParameterAdded,
    /// A parameter disappeared.
    ParameterRemoved,
    /// The request body appeared, disappeared or changed media type.
    Body,
    /// The success response changed kind.
    Response,
}

impl OperationAspect {
    /// A short name, also used in JSON output.
    pub fn name(self) -> &'static str {
        match self {
            OperationAspect::Method => "method",
            OperationAspect::Path => "path",
            OperationAspect::Beta => "beta",
            OperationAspect::Deprecated => "deprecated",
            OperationAspect::ParameterAdded => "parameter-added",
            OperationAspect::ParameterRemoved => "parameter-removed",
            OperationAspect::Body => "request-body",
            OperationAspect::Response => "response",
        }
    }
}

/// One change to an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationChange {
    /// `operationId` (and the parameter, when it is about one).
    pub at: String,
    /// What changed.
    pub aspect: OperationAspect,
    /// Before.
    pub old: String,
    /// After.
    pub new: String,
}

/// Everything that differs between two specs.
#[derive(Debug, Clone, Default)]
pub struct SpecDiff {
    /// Operations only the new spec has.
    pub operations_added: Vec<OperationSummary>,
    /// Operations only the old spec has.
    pub operations_removed: Vec<OperationSummary>,
    /// Changes to operations both have.
    pub operation_changes: Vec<OperationChange>,
    /// Component schemas only the new spec has.
    pub schemas_added: Vec<String>,
    /// Component schemas only the old spec has.
    pub schemas_removed: Vec<String>,
    /// Changes inside schemas both have (and inside operation parameters,
    /// bodies and results).
    pub changes: Vec<Change>,
}

fn summary(op: &OperationModel) -> OperationSummary {
    OperationSummary {
        id: op.id.clone(),
        method: op.method.clone(),
        path: op.path.clone(),
        beta: op.beta,
    }
}

/// Compares two reduced specs.
pub fn diff(old: &SpecModel, new: &SpecModel) -> SpecDiff {
    let mut out = SpecDiff::default();
    let mut comparer = Comparer::new(Mode::SpecToSpec, &old.schemas, &new.schemas);

    for (id, op) in &new.operations {
        if !old.operations.contains_key(id) {
            out.operations_added.push(summary(op));
        }
    }
    for (id, op) in &old.operations {
        let Some(new_op) = new.operations.get(id) else {
            out.operations_removed.push(summary(op));
            continue;
        };
        diff_operation(op, new_op, &mut out.operation_changes, &mut comparer);
    }

    for name in new.schemas.keys() {
        if !old.schemas.contains_key(name) {
            out.schemas_added.push(name.clone());
        }
    }
    for (name, schema) in &old.schemas {
        match new.schemas.get(name) {
            Some(new_schema) => comparer.compare(schema, new_schema, name),
            None => out.schemas_removed.push(name.clone()),
        }
    }
    out.changes = comparer.changes;
    out
}

fn diff_operation(
    old: &OperationModel,
    new: &OperationModel,
    out: &mut Vec<OperationChange>,
    comparer: &mut Comparer<'_>,
) {
    let id = &old.id;
    let mut push = |at: String, aspect, old: String, new: String| {
        out.push(OperationChange {
            at,
            aspect,
            old,
            new,
        });
    };
    if old.method != new.method {
        push(
            id.clone(),
            OperationAspect::Method,
            old.method.clone(),
            new.method.clone(),
        );
    }
    if old.path != new.path {
        push(
            id.clone(),
            OperationAspect::Path,
            old.path.clone(),
            new.path.clone(),
        );
    }
    let yes_no = |b: bool, what: &str| {
        if b {
            what.to_owned()
        } else {
            format!("not {what}")
        }
    };
    if old.beta != new.beta {
        push(
            id.clone(),
            OperationAspect::Beta,
            yes_no(old.beta, "beta"),
            yes_no(new.beta, "beta"),
        );
    }
    if old.deprecated != new.deprecated {
        push(
            id.clone(),
            OperationAspect::Deprecated,
            yes_no(old.deprecated, "deprecated"),
            yes_no(new.deprecated, "deprecated"),
        );
    }
    for (location, a, b) in [
        ("path", &old.path_params, &new.path_params),
        ("query", &old.query_params, &new.query_params),
        ("", &old.other_params, &new.other_params),
    ] {
        let names: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
        for name in names {
            let at = format!("{id} {location} {name}").replace("  ", " ");
            let describe = |p: &Param| {
                format!(
                    "{}{}",
                    p.schema.label(),
                    if p.required { ", required" } else { "" }
                )
            };
            match (a.get(name), b.get(name)) {
                (Some(x), Some(y)) => {
                    comparer.compare(&x.schema, &y.schema, &at);
                    if x.required != y.required {
                        let say = |r: bool| if r { "required" } else { "optional" };
                        comparer.changes.push(Change {
                            at,
                            kind: if y.required {
                                ChangeKind::BecameRequired
                            } else {
                                ChangeKind::BecameOptional
                            },
                            old: say(x.required).into(),
                            new: say(y.required).into(),
                        });
                    }
                }
                (Some(x), None) => push(
                    at,
                    OperationAspect::ParameterRemoved,
                    describe(x),
                    String::new(),
                ),
                (None, Some(y)) => push(
                    at,
                    OperationAspect::ParameterAdded,
                    String::new(),
                    describe(y),
                ),
                (None, None) => {}
            }
        }
    }
    match (&old.body, &new.body) {
        (Some(a), Some(b)) if a.content_type == b.content_type => {
            comparer.compare(&a.schema, &b.schema, &format!("{id} body"));
        }
        (None, None) => {}
        (a, b) => {
            let say = |x: &Option<crate::spec::model::Body>| {
                x.as_ref().map_or("no body".to_owned(), |b| {
                    format!("{} {}", b.content_type, b.schema.label())
                })
            };
            push(id.clone(), OperationAspect::Body, say(a), say(b));
        }
    }
    if let (Success::Json { envelope: a, .. }, Success::Json { envelope: b, .. }) =
        (&old.success, &new.success)
    {
        // The fields around `result` (paging: `limit`, `nextCursor`, ...).
        let wrap = |o: &crate::spec::model::Object| {
            crate::spec::model::Node::new(crate::spec::model::Kind::Object(o.clone()))
        };
        comparer.compare(&wrap(a), &wrap(b), &format!("{id} envelope"));
    }
    match (&old.success, &new.success) {
        (
            Success::Json {
                result: Some(a), ..
            },
            Success::Json {
                result: Some(b), ..
            },
        ) => comparer.compare(a, b, &format!("{id} result")),
        (a, b) if describe_success(a) != describe_success(b) => {
            push(
                id.clone(),
                OperationAspect::Response,
                describe_success(a),
                describe_success(b),
            );
        }
        _ => {}
    }
}

/// A one-line description of a success response.
pub fn describe_success(success: &Success) -> String {
    match success {
        Success::Json {
            status,
            result: Some(result),
            ..
        } => format!("{status} JSON, result {}", result.label()),
        Success::Json {
            status,
            result: None,
            ..
        } => format!("{status} JSON, no result"),
        Success::Other {
            status,
            content_type: Some(content_type),
        } => format!("{status} {content_type}"),
        Success::Other {
            status,
            content_type: None,
        } => format!("{status} without content"),
        Success::Missing => "no 2xx response".into(),
    }
}

/// Groups of schema changes, in report order.
const GROUPS: &[(&str, &[ChangeKind])] = &[
    ("Properties added", &[ChangeKind::PropertyAdded]),
    ("Properties removed", &[ChangeKind::PropertyRemoved]),
    (
        "Types and formats",
        &[
            ChangeKind::Type,
            ChangeKind::Format,
            ChangeKind::Reference,
            ChangeKind::AdditionalProperties,
        ],
    ),
    (
        "Enum values",
        &[
            ChangeKind::EnumValuesAdded,
            ChangeKind::EnumValuesRemoved,
            ChangeKind::EnumConstraint,
        ],
    ),
    (
        "Requiredness",
        &[ChangeKind::BecameRequired, ChangeKind::BecameOptional],
    ),
    ("Nullability", &[ChangeKind::Nullable]),
    ("Deprecation", &[ChangeKind::Deprecated]),
];

impl SpecDiff {
    /// Whether nothing differs.
    pub fn is_empty(&self) -> bool {
        self.operations_added.is_empty()
            && self.operations_removed.is_empty()
            && self.operation_changes.is_empty()
            && self.schemas_added.is_empty()
            && self.schemas_removed.is_empty()
            && self.changes.is_empty()
    }

    fn count(&self, kind: ChangeKind) -> usize {
        self.changes.iter().filter(|c| c.kind == kind).count()
    }

    /// The one-line summary.
    pub fn summary(&self) -> String {
        let properties =
            self.count(ChangeKind::PropertyAdded) + self.count(ChangeKind::PropertyRemoved);
        format!(
            "operations +{} -{} ~{}, schemas +{} -{}, properties +{} -{}, other schema changes {}",
            self.operations_added.len(),
            self.operations_removed.len(),
            self.operation_changes
                .iter()
                .map(|c| c.at.split(' ').next().unwrap_or(""))
                .collect::<BTreeSet<_>>()
                .len(),
            self.schemas_added.len(),
            self.schemas_removed.len(),
            self.count(ChangeKind::PropertyAdded),
            self.count(ChangeKind::PropertyRemoved),
            self.changes.len() - properties,
        )
    }

    /// The report for people.
    pub fn to_text(&self, old_name: &str, new_name: &str) -> String {
        let mut out = format!("spec-diff {old_name} -> {new_name}\n");
        if self.is_empty() {
            out.push_str("\nno differences\n");
        }
        let op_line = |o: &OperationSummary| {
            format!(
                "{} {} ({}){}",
                o.method,
                o.path,
                o.id,
                if o.beta { " [beta]" } else { "" }
            )
        };
        section(
            &mut out,
            "Operations added",
            self.operations_added
                .iter()
                .map(|o| format!("+ {}", op_line(o))),
        );
        section(
            &mut out,
            "Operations removed",
            self.operations_removed
                .iter()
                .map(|o| format!("- {}", op_line(o))),
        );
        section(
            &mut out,
            "Operations changed",
            self.operation_changes.iter().map(|c| match c.aspect {
                OperationAspect::ParameterAdded => {
                    format!("~ {}: parameter added ({})", c.at, c.new)
                }
                OperationAspect::ParameterRemoved => {
                    format!("~ {}: parameter removed ({})", c.at, c.old)
                }
                OperationAspect::Beta | OperationAspect::Deprecated => {
                    format!("~ {}: {} -> {}", c.at, c.old, c.new)
                }
                aspect => format!("~ {}: {} {} -> {}", c.at, aspect.name(), c.old, c.new),
            }),
        );
        section(
            &mut out,
            "Schemas added",
            self.schemas_added.iter().map(|s| format!("+ {s}")),
        );
        section(
            &mut out,
            "Schemas removed",
            self.schemas_removed.iter().map(|s| format!("- {s}")),
        );
        for (title, kinds) in GROUPS {
            section(
                &mut out,
                title,
                self.changes
                    .iter()
                    .filter(|c| kinds.contains(&c.kind))
                    .map(change_line),
            );
        }
        let _ = writeln!(out, "\n{}", self.summary());
        out
    }

    /// The report for tools.
    pub fn to_json(&self, old_name: &str, new_name: &str) -> serde_json::Value {
        let op = |o: &OperationSummary| json!({"operationId": o.id, "method": o.method, "path": o.path, "beta": o.beta});
        json!({
            "old": old_name,
            "new": new_name,
            "operations": {
                "added": self.operations_added.iter().map(op).collect::<Vec<_>>(),
                "removed": self.operations_removed.iter().map(op).collect::<Vec<_>>(),
                "changed": self.operation_changes.iter().map(|c| json!({
                    "at": c.at, "aspect": c.aspect.name(), "old": c.old, "new": c.new
                })).collect::<Vec<_>>(),
            },
            "schemas": {
                "added": self.schemas_added,
                "removed": self.schemas_removed,
            },
            "changes": self.changes.iter().map(|c| json!({
                "at": c.at, "kind": c.kind.name(), "old": c.old, "new": c.new
            })).collect::<Vec<_>>(),
            "summary": self.summary(),
        })
    }
}

fn change_line(c: &Change) -> String {
    match c.kind {
        ChangeKind::PropertyAdded => format!("+ {}: {}", c.at, c.new),
        ChangeKind::PropertyRemoved => format!("- {}: {}", c.at, c.old),
        ChangeKind::EnumValuesAdded => format!("~ {}: values added: {}", c.at, c.new),
        ChangeKind::EnumValuesRemoved => format!("~ {}: values removed: {}", c.at, c.old),
        ChangeKind::Nullable
        | ChangeKind::Deprecated
        | ChangeKind::BecameRequired
        | ChangeKind::BecameOptional => format!("~ {}: {} -> {}", c.at, c.old, c.new),
        kind => format!("~ {}: {} {} -> {}", c.at, kind.name(), c.old, c.new),
    }
}

fn section(out: &mut String, title: &str, lines: impl Iterator<Item = String>) {
    let lines: Vec<String> = lines.collect();
    if lines.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{title} ({}):", lines.len());
    for line in lines {
        let _ = writeln!(out, "  {line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::load::load_value;
    use serde_json::{Value, json};

    fn model(doc: Value) -> SpecModel {
        SpecModel::from_openapi(&load_value(doc, "test").unwrap()).unwrap()
    }

    fn envelope(result: Value) -> Value {
        json!({"200": {"description": "ok", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"status": {"type": "number"}, "result": result}}}}}})
    }

    fn old_doc() -> Value {
        json!({"openapi": "3.1.0", "info": {"title": "t", "version": "1"},
            "paths": {
                "/v1/things": {"get": {"operationId": "thingList",
                    "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer"}}],
                    "responses": envelope(json!({"type": "array", "items": {"$ref": "#/components/schemas/Thing"}}))}},
                "/v1/things/{id}": {"delete": {"operationId": "thingDelete",
                    "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                    "responses": envelope(json!({"type": "null"}))}}},
            "components": {"schemas": {
                "Thing": {"type": "object", "properties": {
                    "id": {"type": "string", "format": "uuid"},
                    "state": {"type": "string", "enum": ["on", "off"]},
                    "size": {"type": "integer"},
                    "note": {"type": "string"}}},
                "Gone": {"type": "object"}}}})
    }

    fn new_doc() -> Value {
        let mut doc = old_doc();
        let thing = &mut doc["components"]["schemas"]["Thing"];
        thing["properties"]["state"]["enum"] = json!(["on", "broken"]);
        thing["properties"]["size"] = json!({"type": ["string", "null"]});
        thing["properties"].as_object_mut().unwrap().remove("note");
        thing["properties"]["label"] = json!({"type": "string", "deprecated": true});
        thing["required"] = json!(["id"]);
        let schemas = doc["components"]["schemas"].as_object_mut().unwrap();
        schemas.remove("Gone");
        schemas.insert("Fresh".into(), json!({"type": "object"}));
        let paths = doc["paths"].as_object_mut().unwrap();
        let delete = paths.remove("/v1/things/{id}").unwrap();
        paths.insert(
            "/v1/things/{thingId}".into(),
            json!({"post": delete["delete"].clone()}),
        );
        paths["/v1/things"]["get"]["parameters"][0]["required"] = json!(true);
        paths.insert(
            "/v1/other".into(),
            json!({"get": {"operationId": "otherGet", "x-badges": [{"name": "Beta"}], "responses": {}}}),
        );
        doc
    }

    #[test]
    fn every_kind_of_change_is_reported() {
        let d = diff(&model(old_doc()), &model(new_doc()));
        assert_eq!(d.operations_added.len(), 1);
        assert!(d.operations_added[0].beta);
        assert!(d.operations_removed.is_empty());
        let ops: Vec<(OperationAspect, &str, &str)> = d
            .operation_changes
            .iter()
            .map(|c| (c.aspect, c.old.as_str(), c.new.as_str()))
            .collect();
        assert_eq!(
            ops,
            [
                (OperationAspect::Method, "DELETE", "POST"),
                (
                    OperationAspect::Path,
                    "/v1/things/{id}",
                    "/v1/things/{thingId}"
                ),
            ]
        );
        assert_eq!(
            (d.schemas_added.as_slice(), d.schemas_removed.as_slice()),
            (&["Fresh".to_string()][..], &["Gone".to_string()][..])
        );
        let changes: Vec<(&str, ChangeKind)> =
            d.changes.iter().map(|c| (c.at.as_str(), c.kind)).collect();
        assert_eq!(
            changes,
            [
                ("thingList query limit", ChangeKind::BecameRequired),
                ("Thing.id", ChangeKind::BecameRequired),
                ("Thing.label", ChangeKind::PropertyAdded),
                ("Thing.note", ChangeKind::PropertyRemoved),
                ("Thing.size", ChangeKind::Nullable),
                ("Thing.size", ChangeKind::Type),
                ("Thing.state", ChangeKind::EnumValuesAdded),
                ("Thing.state", ChangeKind::EnumValuesRemoved),
            ]
        );
        assert_eq!(
            d.summary(),
            "operations +1 -0 ~1, schemas +1 -1, properties +1 -1, other schema changes 6"
        );
        let text = d.to_text("old", "new");
        assert!(
            text.contains("\nOperations added (1):\n  + GET /v1/other (otherGet) [beta]\n"),
            "{text}"
        );
        assert!(
            text.contains("  ~ Thing.size: type integer -> string\n"),
            "{text}"
        );
        assert!(
            text.contains("  ~ Thing.state: values added: broken\n"),
            "{text}"
        );
        let json = d.to_json("old", "new");
        assert_eq!(json["schemas"]["removed"], json!(["Gone"]));
        assert_eq!(json["changes"][2]["kind"], "property-added");
    }

    #[test]
    fn paging_fields_around_the_result_are_reported() {
        let mut new = old_doc();
        let props = &mut new["paths"]["/v1/things"]["get"]["responses"]["200"]["content"]["application/json"]
            ["schema"]["properties"];
        props["nextCursor"] = json!({"type": ["string", "null"]});
        props["status"] = json!({"type": "integer"});
        let d = diff(&model(old_doc()), &model(new));
        let changes: Vec<(&str, ChangeKind)> =
            d.changes.iter().map(|c| (c.at.as_str(), c.kind)).collect();
        assert_eq!(
            changes,
            [
                ("thingList envelope.nextCursor", ChangeKind::PropertyAdded),
                ("thingList envelope.status", ChangeKind::Type),
            ]
        );
    }

    #[test]
    fn identical_specs_have_no_differences() {
        let d = diff(&model(old_doc()), &model(old_doc()));
        assert!(d.is_empty());
        assert!(d.to_text("a", "b").contains("no differences"));
    }
}
