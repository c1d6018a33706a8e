//! `spec-diff --changelog`: what changed between two spec files, written
//! for the users of the SDK as a markdown section of `CHANGELOG.md`.
//!
//! Changes are grouped by area, the spec tag of an operation. A schema
//! belongs to the area of the operations that reach it (through `$ref`s,
//! transitively); one reached from several areas is listed under
//! [`SHARED`], one that no operation reaches under [`UNREFERENCED`].
//! Only what a user of the SDK notices is listed: operations added,
//! removed or deprecated, query and path parameters, fields added or
//! removed, types changed, enum values, requiredness and deprecation.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde_json::Value;

use super::{OperationAspect, OperationSummary, SpecDiff};
use crate::spec::compare::{Change, ChangeKind};

/// The area of schemas that operations of several areas use.
pub const SHARED: &str = "Types used by several areas";
/// The area of schemas that no operation uses.
pub const UNREFERENCED: &str = "Other types";
/// The area of an operation without a tag.
const UNTAGGED: &str = "Untagged";

/// Which area each operation and schema of one spec belongs to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Areas {
    /// `operationId` to its first tag.
    pub operations: BTreeMap<String, String>,
    /// Component schema to its area.
    pub schemas: BTreeMap<String, String>,
    /// The build number of `info.contact.url` (`referrer=openapi-NNNN`).
    pub build: Option<u64>,
}

/// Why a spec file's areas could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct AreasError {
    /// The file.
    pub path: String,
    /// What went wrong.
    pub message: String,
}

impl Areas {
    /// Reads the areas of the spec file at `path`.
    pub fn read(path: &std::path::Path) -> Result<Areas, AreasError> {
        let error = |message: String| AreasError {
            path: path.display().to_string(),
            message,
        };
        let bytes = std::fs::read(path).map_err(|e| error(e.to_string()))?;
        let doc: Value = serde_json::from_slice(&bytes).map_err(|e| error(e.to_string()))?;
        Ok(Areas::of(&doc))
    }

    /// Reads the areas of a spec document (the JSON as published).
    pub fn of(doc: &Value) -> Areas {
        let mut areas = Areas {
            build: doc
                .pointer("/info/contact/url")
                .and_then(Value::as_str)
                .and_then(|url| url.rsplit_once("referrer=openapi-"))
                .and_then(|(_, tail)| {
                    let digits: String = tail.chars().take_while(char::is_ascii_digit).collect();
                    digits.parse().ok()
                }),
            ..Areas::default()
        };
        let components = doc
            .pointer("/components/schemas")
            .and_then(Value::as_object);
        let mut reached: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for item in doc
            .get("paths")
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|paths| paths.values())
        {
            let Some(item) = item.as_object() else {
                continue;
            };
            for (method, op) in item {
                let Some(id) = op.get("operationId").and_then(Value::as_str) else {
                    continue;
                };
                if !METHODS.contains(&method.as_str()) {
                    continue;
                }
                let tag = op
                    .pointer("/tags/0")
                    .and_then(Value::as_str)
                    .unwrap_or(UNTAGGED)
                    .to_owned();
                let mut names = BTreeSet::new();
                refs(op, &mut names);
                if let Some(shared) = item.get("parameters") {
                    refs(shared, &mut names);
                }
                let mut pending: Vec<String> = names.into_iter().collect();
                let mut seen = BTreeSet::new();
                while let Some(name) = pending.pop() {
                    if !seen.insert(name.clone()) {
                        continue;
                    }
                    if let Some(schema) = components.and_then(|c| c.get(&name)) {
                        let mut inner = BTreeSet::new();
                        refs(schema, &mut inner);
                        pending.extend(inner.into_iter().filter(|n| !seen.contains(n)));
                    }
                }
                for name in seen {
                    reached.entry(name).or_default().insert(tag.clone());
                }
                areas.operations.insert(id.to_owned(), tag);
            }
        }
        for name in components.into_iter().flat_map(|c| c.keys()) {
            let area = match reached.get(name) {
                Some(tags) if tags.len() == 1 => tags.first().cloned().unwrap_or_default(),
                Some(_) => SHARED.to_owned(),
                None => UNREFERENCED.to_owned(),
            };
            areas.schemas.insert(name.clone(), area);
        }
        areas
    }

    /// The area of an operation or schema name; `None` when neither.
    fn of_name(&self, name: &str) -> Option<&str> {
        self.operations
            .get(name)
            .or_else(|| self.schemas.get(name))
            .map(String::as_str)
    }
}

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Every component schema named by a `$ref` inside `value`.
fn refs(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                if key == "$ref"
                    && let Some(name) = inner
                        .as_str()
                        .and_then(|r| r.strip_prefix("#/components/schemas/"))
                {
                    out.insert(name.to_owned());
                } else {
                    refs(inner, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

/// The first name of a change's place: `Schema` of `Schema.field[]`,
/// `operationId` of `operationId query limit`.
fn head(at: &str) -> &str {
    at.split(['.', ' ', '[', '<', '{']).next().unwrap_or(at)
}

/// A change's place, as code: `Schema.field`, or `operationId` and what
/// follows it.
fn place(at: &str) -> String {
    format!("`{at}`")
}

/// One area's lines, by heading.
#[derive(Debug, Default)]
struct Section {
    lines: BTreeMap<usize, Vec<String>>,
}

/// The headings of an area, in the order they are printed.
const HEADINGS: &[&str] = &[
    "New operations",
    "Removed operations",
    "Deprecated operations",
    "Operations changed",
    "New parameters",
    "Removed parameters",
    "New types",
    "Removed types",
    "New fields",
    "Removed fields",
    "Changed types",
    "New enum values",
    "Removed enum values",
    "Now required",
    "Now optional",
    "Now nullable or no longer nullable",
    "Deprecated fields",
];

fn heading(name: &str) -> usize {
    HEADINGS.iter().position(|h| *h == name).unwrap_or(0)
}

impl SpecDiff {
    /// The changes for users, as markdown: a `### API (spec pin)` section
    /// with one `####` part per area. `old` and `new` say where each name
    /// belongs (removed names are looked up in `old`, the others in `new`).
    pub fn to_changelog(&self, old: &Areas, new: &Areas) -> String {
        let mut areas: BTreeMap<String, Section> = BTreeMap::new();
        let mut push = |area: &str, name: &str, line: String| {
            areas
                .entry(area.to_owned())
                .or_default()
                .lines
                .entry(heading(name))
                .or_default()
                .push(line);
        };
        let area_new = |name: &str| {
            new.of_name(name)
                .or_else(|| old.of_name(name))
                .unwrap_or(UNREFERENCED)
                .to_owned()
        };
        let area_old = |name: &str| {
            old.of_name(name)
                .or_else(|| new.of_name(name))
                .unwrap_or(UNREFERENCED)
                .to_owned()
        };
        let op_line = |o: &OperationSummary| {
            format!(
                "`{}` (`{} {}`){}",
                o.id,
                o.method,
                o.path,
                if o.beta { ", beta" } else { "" }
            )
        };
        for op in &self.operations_added {
            push(&area_new(&op.id), "New operations", op_line(op));
        }
        for op in &self.operations_removed {
            push(&area_old(&op.id), "Removed operations", op_line(op));
        }
        for change in &self.operation_changes {
            let area = area_new(head(&change.at));
            match change.aspect {
                OperationAspect::Deprecated if change.new == "deprecated" => {
                    push(&area, "Deprecated operations", format!("`{}`", change.at));
                }
                OperationAspect::ParameterAdded => push(
                    &area,
                    "New parameters",
                    format!("{} ({})", place(&change.at), change.new),
                ),
                OperationAspect::ParameterRemoved => {
                    push(&area, "Removed parameters", place(&change.at))
                }
                OperationAspect::Beta | OperationAspect::Deprecated => push(
                    &area,
                    "Operations changed",
                    format!("`{}`: {} → {}", change.at, change.old, change.new),
                ),
                aspect => push(
                    &area,
                    "Operations changed",
                    format!(
                        "`{}`: {} {} → {}",
                        change.at,
                        aspect.name(),
                        change.old,
                        change.new
                    ),
                ),
            }
        }
        for name in &self.schemas_added {
            push(&area_new(name), "New types", format!("`{name}`"));
        }
        for name in &self.schemas_removed {
            push(&area_old(name), "Removed types", format!("`{name}`"));
        }
        for change in &self.changes {
            let area = if change.kind == ChangeKind::PropertyRemoved {
                area_old(head(&change.at))
            } else {
                area_new(head(&change.at))
            };
            let (name, line) = change_line(change);
            push(&area, name, line);
        }
        let mut out = String::from("### API (spec pin)\n\n");
        let build = |b: Option<u64>| {
            b.map_or_else(|| "an unnumbered build".into(), |b| format!("build {b}"))
        };
        let _ = writeln!(
            out,
            "The pinned spec moves from {} to {}.",
            build(old.build),
            build(new.build)
        );
        if self.is_empty() {
            out.push_str("\nNo change to operations or types.\n");
            return out;
        }
        // Areas in name order, with the two catch-all groups last.
        let mut names: Vec<&String> = areas.keys().collect();
        names.sort_by_key(|n| {
            (
                n.as_str() == SHARED || n.as_str() == UNREFERENCED,
                n.as_str(),
            )
        });
        for name in names {
            let section = &areas[name];
            let _ = writeln!(out, "\n#### {name}\n");
            for (index, lines) in &section.lines {
                let mut lines = lines.clone();
                lines.sort();
                lines.dedup();
                let _ = writeln!(out, "- {}: {}", HEADINGS[*index], lines.join(", "));
            }
        }
        out
    }
}

/// The heading and the text of one schema change.
fn change_line(change: &Change) -> (&'static str, String) {
    let at = place(&change.at);
    match change.kind {
        ChangeKind::PropertyAdded => ("New fields", format!("{at} ({})", change.new)),
        ChangeKind::PropertyRemoved => ("Removed fields", at),
        ChangeKind::Type
        | ChangeKind::Format
        | ChangeKind::Reference
        | ChangeKind::AdditionalProperties
        | ChangeKind::EnumConstraint => (
            "Changed types",
            format!("{at} ({} → {})", change.old, change.new),
        ),
        ChangeKind::EnumValuesAdded => ("New enum values", format!("{at}: {}", change.new)),
        ChangeKind::EnumValuesRemoved => ("Removed enum values", format!("{at}: {}", change.old)),
        ChangeKind::BecameRequired => ("Now required", at),
        ChangeKind::BecameOptional => ("Now optional", at),
        ChangeKind::Nullable => (
            "Now nullable or no longer nullable",
            format!("{at} ({} → {})", change.old, change.new),
        ),
        ChangeKind::Deprecated => ("Deprecated fields", at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::model_from_value;
    use serde_json::json;

    fn doc(extra_op: bool, colour: bool) -> Value {
        let mut key = json!({"type": "object", "properties": {"name": {"type": "string"}}});
        if colour {
            key["properties"]["colour"] = json!({"type": "string"});
        }
        let ok = |schema: &str| {
            json!({"200": {"description": "ok", "content": {"application/json": {"schema": {
                "type": "object",
                "properties": {"result": {"$ref": format!("#/components/schemas/{schema}")}}
            }}}}})
        };
        let mut paths = json!({
            "/v1/keys": {"get": {"operationId": "keyGet", "tags": ["API keys"], "responses": ok("Key")}},
            "/v1/orgs": {"get": {"operationId": "orgGet", "tags": ["Organization"], "responses": ok("Org")}},
        });
        if extra_op {
            paths["/v1/bells"] = json!({"get": {"operationId": "bellGet", "tags": ["Bells"], "responses": ok("Key")}});
        }
        json!({
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1", "contact": {"url": if extra_op { "https://x/?referrer=openapi-2" } else { "https://x/?referrer=openapi-1" }}},
            "paths": paths,
            "components": {"schemas": {
                "Key": key,
                "Org": {"type": "object", "properties": {"id": {"type": "string"}}},
                "Loose": {"type": "string"},
            }},
        })
    }

    #[test]
    fn areas_follow_tags_and_references() {
        let areas = Areas::of(&doc(true, false));
        assert_eq!(areas.operations["keyGet"], "API keys");
        assert_eq!(areas.schemas["Org"], "Organization");
        assert_eq!(areas.schemas["Key"], SHARED);
        assert_eq!(areas.schemas["Loose"], UNREFERENCED);
        assert_eq!(areas.build, Some(2));
    }

    #[test]
    fn the_changelog_lists_each_change_under_its_area() {
        let (old_doc, new_doc) = (doc(false, false), doc(true, true));
        let old = model_from_value(old_doc.clone(), "old").unwrap();
        let new = model_from_value(new_doc.clone(), "new").unwrap();
        let text =
            super::super::diff(&old, &new).to_changelog(&Areas::of(&old_doc), &Areas::of(&new_doc));
        assert!(
            text.starts_with(
                "### API (spec pin)\n\nThe pinned spec moves from build 1 to build 2.\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("#### Bells\n\n- New operations: `bellGet` (`GET /v1/bells`)\n"),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "#### {SHARED}\n\n- New fields: `Key.colour` (string)\n"
            )),
            "{text}"
        );
        assert!(!text.contains("Organization"), "{text}");
    }
}
