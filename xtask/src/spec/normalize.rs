//! Rewrites an OpenAPI 3.1 document into the 3.0 shapes `openapiv3` models,
//! then refuses whatever the loader does not understand.
//!
//! The rules run on every schema object (component schemas, parameter,
//! request body, response and header schemas, and everything nested in
//! them), parent before children, in this order:
//!
//! 1. [`null_branches`]: a branch of `anyOf`/`oneOf` that only admits
//!    `null` is removed and the parent marked `nullable`; when one
//!    non-reference branch is left it is merged into the parent (and the
//!    rules below then apply to what was merged).
//! 2. [`exclusive_bounds`]: a numeric `exclusiveMinimum: n` becomes
//!    `minimum: n` + `exclusiveMinimum: true` (likewise for the maximum);
//!    when an inclusive bound is also given and is tighter, it is kept and
//!    the exclusive one dropped.
//! 3. [`const_to_enum`]: `const: v` becomes `enum: [v]`.
//! 4. [`type_list`]: `type: [T, "null"]` becomes `type: T` + `nullable:
//!    true`; a list of two or more non-null types becomes an `anyOf` with
//!    one branch per type, each carrying the keywords that apply to its
//!    type (`minimum` goes to the number branch, `pattern` to the string
//!    one, enum values to the branch of their JSON type). A keyword that
//!    applies to none of the listed types is refused rather than dropped.
//! 5. [`null_only`]: a schema whose only type is `null` (`type: "null"` or
//!    `["null"]`) has no 3.0 type; it becomes `nullable: true` + `enum:
//!    [null]`, which `openapiv3` reads as an untyped schema whose one value
//!    is `null`.
//! 6. [`property_names`]: `propertyNames` that only says `type: string`
//!    (annotations aside) is removed: every JSON property name is a string,
//!    so it constrains nothing. Any other `propertyNames` (a pattern, an
//!    enum, a length) is refused until someone decides how to model it.
//! 7. [`pattern_conjunction`]: a typed schema whose `allOf` branches each
//!    only give a `pattern` (a password that must contain a lower-case
//!    letter, an upper-case letter and a digit) becomes one `pattern` that
//!    requires them all, with one lookahead per branch:
//!    `^(?=[\s\S]*?(?:a))(?=[\s\S]*?(?:b))`. `openapiv3` would otherwise
//!    read the schema as an `allOf` and drop its `type`.
//!
//! `writeOnly: true` needs no rewriting: 3.0 has it and `openapiv3` reads
//! it. It means "sent in requests, never shown back"; the code generator
//! takes it as one of the signs of a secret (see `xtask/codegen.toml`).
//!
//! Then [`check_keywords`] refuses any schema keyword outside
//! [`SCHEMA_KEYWORDS`] (vendor `x-` extensions excepted), a `$ref` with
//! siblings other than `description`/`summary` (the loader would drop them),
//! and any top-level key outside [`TOP_LEVEL_KEYS`]. A new keyword in the
//! spec therefore stops the load until someone decides what it means.

use serde_json::{Map, Value, json};

/// Schema keywords the loader understands: those the current spec uses that
/// `openapiv3` models, plus what the rules above produce.
pub const SCHEMA_KEYWORDS: &[&str] = &[
    "$ref",
    "additionalProperties",
    "allOf",
    "anyOf",
    "default",
    "deprecated",
    "description",
    "enum",
    "example",
    "exclusiveMaximum",
    "exclusiveMinimum",
    "externalDocs",
    "format",
    "items",
    "maxItems",
    "maxLength",
    "maxProperties",
    "maximum",
    "minItems",
    "minLength",
    "minProperties",
    "minimum",
    "multipleOf",
    "nullable",
    "oneOf",
    "pattern",
    "properties",
    "required",
    "title",
    "type",
    "uniqueItems",
    "writeOnly",
];

/// Top-level keys the loader understands (plus `x-` extensions).
pub const TOP_LEVEL_KEYS: &[&str] = &[
    "openapi",
    "info",
    "servers",
    "security",
    "tags",
    "paths",
    "components",
    "externalDocs",
];

const HTTP_METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Keywords that describe a schema without constraining its type.
const ANNOTATIONS: &[&str] = &[
    "description",
    "title",
    "default",
    "example",
    "deprecated",
    "externalDocs",
    "nullable",
];

const STRING_KEYWORDS: &[&str] = &["pattern", "minLength", "maxLength"];
const NUMERIC_KEYWORDS: &[&str] = &[
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
];
const ARRAY_KEYWORDS: &[&str] = &["items", "minItems", "maxItems", "uniqueItems"];
const OBJECT_KEYWORDS: &[&str] = &[
    "properties",
    "required",
    "additionalProperties",
    "minProperties",
    "maxProperties",
];
const TYPE_NAMES: &[&str] = &[
    "string", "number", "integer", "boolean", "array", "object", "null",
];

/// One problem, at a JSON pointer (`#/components/schemas/Foo/properties/bar`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// Where.
    pub path: String,
    /// What.
    pub message: String,
}

impl std::fmt::Display for Issue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Applies the rules to every schema of `doc`, then checks the keywords.
/// Returns every issue found, not only the first.
pub fn normalize(doc: &mut Value) -> Result<(), Vec<Issue>> {
    let mut issues = Vec::new();
    walk_document(doc, &mut apply_rules, &mut issues);
    if issues.is_empty() {
        check_top_level(doc, &mut issues);
        walk_document(doc, &mut check_keywords, &mut issues);
    }
    if issues.is_empty() {
        Ok(())
    } else {
        Err(issues)
    }
}

type Rule = fn(&mut Map<String, Value>) -> Result<(), String>;

/// The rules, in the order they run.
pub const RULES: &[(&str, Rule)] = &[
    ("null branches", null_branches),
    ("exclusive bounds", exclusive_bounds),
    ("const", const_to_enum),
    ("type list", type_list),
    ("null only", null_only),
    ("property names", property_names),
    ("pattern conjunction", pattern_conjunction),
];

fn apply_rules(schema: &mut Map<String, Value>, path: &str, issues: &mut Vec<Issue>) {
    for (_, rule) in RULES {
        if let Err(message) = rule(schema) {
            issues.push(Issue {
                path: path.to_owned(),
                message,
            });
            return;
        }
    }
}

/// Rule 2: numeric `exclusiveMinimum`/`exclusiveMaximum` to the 3.0 form.
pub fn exclusive_bounds(schema: &mut Map<String, Value>) -> Result<(), String> {
    for (exclusive, bound, is_min) in [
        ("exclusiveMinimum", "minimum", true),
        ("exclusiveMaximum", "maximum", false),
    ] {
        let limit = match schema.get(exclusive) {
            None | Some(Value::Bool(_)) => continue,
            Some(Value::Number(n)) => n.clone(),
            Some(other) => {
                return Err(format!(
                    "`{exclusive}` must be a number, found {}",
                    kind_of(other)
                ));
            }
        };
        let inclusive_is_tighter = match (schema.get(bound).and_then(Value::as_f64), limit.as_f64())
        {
            (Some(inclusive), Some(excl)) if is_min => inclusive > excl,
            (Some(inclusive), Some(excl)) => inclusive < excl,
            _ => false,
        };
        if inclusive_is_tighter {
            schema.remove(exclusive);
        } else {
            schema.insert(bound.into(), Value::Number(limit));
            schema.insert(exclusive.into(), Value::Bool(true));
        }
    }
    Ok(())
}

/// Rule 3: `const: v` to `enum: [v]`.
pub fn const_to_enum(schema: &mut Map<String, Value>) -> Result<(), String> {
    let Some(value) = schema.remove("const") else {
        return Ok(());
    };
    match schema.get("enum") {
        Some(Value::Array(values)) if !values.contains(&value) => {
            Err(format!("`const` {value} is not one of the `enum` values"))
        }
        Some(Value::Array(_)) | None => {
            schema.insert("enum".into(), Value::Array(vec![value]));
            Ok(())
        }
        Some(other) => Err(format!("`enum` must be an array, found {}", kind_of(other))),
    }
}

/// Rule 4: a list of types to one type + `nullable`, or to an `anyOf`.
pub fn type_list(schema: &mut Map<String, Value>) -> Result<(), String> {
    let Some(Value::Array(list)) = schema.get("type") else {
        return Ok(());
    };
    let mut types: Vec<String> = Vec::new();
    for item in list {
        match item.as_str() {
            Some(name) if TYPE_NAMES.contains(&name) => {
                if !types.iter().any(|t| t == name) {
                    types.push(name.to_owned());
                }
            }
            _ => return Err(format!("`type` lists {item}, which is not a type name")),
        }
    }
    if types.iter().any(|t| t == "null") {
        types.retain(|t| t != "null");
        schema.insert("nullable".into(), Value::Bool(true));
    }
    match types.as_slice() {
        [] => {
            schema.insert("type".into(), json!("null"));
            Ok(())
        }
        [one] => {
            schema.insert("type".into(), json!(one));
            Ok(())
        }
        many => split_union(schema, many),
    }
}

/// The part of rule 4 that turns `type: [A, B, ...]` into `anyOf`.
fn split_union(schema: &mut Map<String, Value>, types: &[String]) -> Result<(), String> {
    if let Some(key) = ["anyOf", "oneOf", "allOf", "not"]
        .into_iter()
        .find(|k| schema.contains_key(*k))
    {
        return Err(format!(
            "a list of types together with `{key}` is not supported"
        ));
    }
    schema.remove("type");
    let mut branches: Vec<Map<String, Value>> = types
        .iter()
        .map(|t| {
            let mut branch = Map::new();
            branch.insert("type".into(), json!(t));
            branch
        })
        .collect();
    let keys: Vec<String> = schema.keys().cloned().collect();
    for key in keys {
        let owners: Vec<&str> = if key == "format" {
            match schema.get("format").and_then(Value::as_str) {
                Some("int32" | "int64") => vec!["integer"],
                Some("float" | "double") => vec!["number"],
                _ => vec!["string"],
            }
        } else if STRING_KEYWORDS.contains(&key.as_str()) {
            vec!["string"]
        } else if NUMERIC_KEYWORDS.contains(&key.as_str()) {
            vec!["integer", "number"]
        } else if ARRAY_KEYWORDS.contains(&key.as_str()) {
            vec!["array"]
        } else if OBJECT_KEYWORDS.contains(&key.as_str()) {
            vec!["object"]
        } else if key == "enum" {
            let Some(Value::Array(values)) = schema.remove("enum") else {
                return Err("`enum` must be an array".into());
            };
            for value in values {
                if value.is_null() {
                    continue;
                }
                let index = branch_for_value(&value, types).ok_or_else(|| {
                    format!("enum value {value} matches none of the types {types:?}")
                })?;
                if let Value::Array(list) = branches[index]
                    .entry("enum")
                    .or_insert_with(|| Value::Array(Vec::new()))
                {
                    list.push(value);
                }
            }
            continue;
        } else {
            continue;
        };
        let targets: Vec<usize> = types
            .iter()
            .enumerate()
            .filter(|(_, t)| owners.contains(&t.as_str()))
            .map(|(i, _)| i)
            .collect();
        if targets.is_empty() {
            return Err(format!("`{key}` applies to none of the types {types:?}"));
        }
        if let Some(value) = schema.remove(&key) {
            for index in targets {
                branches[index].insert(key.clone(), value.clone());
            }
        }
    }
    schema.insert(
        "anyOf".into(),
        Value::Array(branches.into_iter().map(Value::Object).collect()),
    );
    Ok(())
}

fn branch_for_value(value: &Value, types: &[String]) -> Option<usize> {
    let position = |name: &str| types.iter().position(|t| t == name);
    match value {
        Value::String(_) => position("string"),
        Value::Bool(_) => position("boolean"),
        Value::Number(n) if n.is_i64() || n.is_u64() => {
            position("integer").or_else(|| position("number"))
        }
        Value::Number(_) => position("number"),
        Value::Array(_) => position("array"),
        Value::Object(_) => position("object"),
        Value::Null => None,
    }
}

/// Whether a schema admits only `null` (and says nothing else).
fn is_null_schema(value: &Value) -> bool {
    let Some(map) = value.as_object() else {
        return false;
    };
    let null_type = match map.get("type") {
        Some(Value::String(t)) => t == "null",
        Some(Value::Array(list)) => list.iter().all(|t| t == "null") && !list.is_empty(),
        _ => false,
    };
    null_type
        && map
            .keys()
            .all(|k| k == "type" || ANNOTATIONS.contains(&k.as_str()))
}

/// Rule 1: `anyOf`/`oneOf` branches that only admit `null` become `nullable`.
pub fn null_branches(schema: &mut Map<String, Value>) -> Result<(), String> {
    for key in ["anyOf", "oneOf"] {
        let Some(Value::Array(branches)) = schema.get_mut(key) else {
            continue;
        };
        let before = branches.len();
        branches.retain(|b| !is_null_schema(b));
        if branches.len() == before {
            continue;
        }
        let left = branches.clone();
        schema.insert("nullable".into(), Value::Bool(true));
        let parent_is_plain = schema
            .keys()
            .all(|k| k == key || ANNOTATIONS.contains(&k.as_str()) || k.starts_with("x-"));
        match left.as_slice() {
            [] => {
                schema.remove(key);
                schema.insert("type".into(), json!("null"));
            }
            [Value::Object(only)] if parent_is_plain && !only.contains_key("$ref") => {
                schema.remove(key);
                for (k, v) in only {
                    if k == "nullable" {
                        continue;
                    }
                    if schema.contains_key(k) {
                        if schema.get(k) != Some(v) {
                            return Err(format!(
                                "cannot merge the one non-null `{key}` branch: `{k}` differs"
                            ));
                        }
                    } else {
                        schema.insert(k.clone(), v.clone());
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Rule 5: a schema that only admits `null` becomes `nullable` + `enum: [null]`.
pub fn null_only(schema: &mut Map<String, Value>) -> Result<(), String> {
    if schema.get("type").and_then(Value::as_str) != Some("null") {
        return Ok(());
    }
    schema.remove("type");
    schema.insert("nullable".into(), Value::Bool(true));
    match schema.get("enum") {
        None => {
            schema.insert("enum".into(), json!([null]));
            Ok(())
        }
        Some(Value::Array(values)) if values.iter().all(Value::is_null) => Ok(()),
        Some(_) => Err("the type is `null` but `enum` lists other values".into()),
    }
}

/// Rule 6: `propertyNames: {type: string}` says nothing; anything more is
/// refused.
pub fn property_names(schema: &mut Map<String, Value>) -> Result<(), String> {
    let Some(names) = schema.get("propertyNames") else {
        return Ok(());
    };
    let only_string = names.as_object().is_some_and(|map| {
        map.get("type").and_then(Value::as_str) == Some("string")
            && map
                .keys()
                .all(|k| k == "type" || ANNOTATIONS.contains(&k.as_str()))
    });
    if !only_string {
        return Err(format!(
            "`propertyNames` {names} constrains names beyond being strings, which the loader does not model"
        ));
    }
    schema.remove("propertyNames");
    Ok(())
}

/// Rule 7: `allOf` of pattern-only branches on a typed schema to one
/// `pattern`.
pub fn pattern_conjunction(schema: &mut Map<String, Value>) -> Result<(), String> {
    let Some(Value::Array(parts)) = schema.get("allOf") else {
        return Ok(());
    };
    if !schema.contains_key("type") {
        return Ok(());
    }
    let mut patterns = Vec::new();
    for part in parts {
        let only_pattern = part.as_object().is_some_and(|m| {
            m.keys()
                .all(|k| k == "pattern" || ANNOTATIONS.contains(&k.as_str()))
        });
        match part.get("pattern").and_then(Value::as_str) {
            Some(p) if only_pattern => patterns.push(p.to_owned()),
            _ => {
                return Err("`allOf` beside a `type` must only hold `pattern` branches".to_owned());
            }
        }
    }
    if let Some(p) = schema.get("pattern").and_then(Value::as_str) {
        patterns.insert(0, p.to_owned());
    }
    let conjunction: String = patterns
        .iter()
        .map(|p| format!("(?=[\\s\\S]*?(?:{p}))"))
        .collect();
    schema.remove("allOf");
    schema.insert("pattern".into(), Value::String(format!("^{conjunction}")));
    Ok(())
}

/// The keyword check (after the rules).
pub fn check_keywords(schema: &mut Map<String, Value>, path: &str, issues: &mut Vec<Issue>) {
    let mut issue = |message: String| {
        issues.push(Issue {
            path: path.to_owned(),
            message,
        });
    };
    let has_ref = schema.contains_key("$ref");
    for (key, value) in schema.iter() {
        if key.starts_with("x-") {
            continue;
        }
        if !SCHEMA_KEYWORDS.contains(&key.as_str()) {
            issue(format!(
                "schema keyword `{key}` is not understood by the loader \
                 (add a normalisation rule or allow it in spec/normalize.rs)"
            ));
            continue;
        }
        if has_ref && !matches!(key.as_str(), "$ref" | "description" | "summary") {
            issue(format!(
                "`$ref` with sibling `{key}`, which the loader would drop"
            ));
        }
        match key.as_str() {
            "type" => match value.as_str() {
                Some(t) if TYPE_NAMES.contains(&t) && t != "null" => {}
                _ => issue(format!("`type` must be one type name, found {value}")),
            },
            "nullable" | "exclusiveMinimum" | "exclusiveMaximum" | "deprecated" | "uniqueItems"
            | "writeOnly"
                if !value.is_boolean() =>
            {
                issue(format!(
                    "`{key}` must be a boolean, found {}",
                    kind_of(value)
                ));
            }
            "$ref" | "format" | "pattern" | "description" | "title" if !value.is_string() => {
                issue(format!(
                    "`{key}` must be a string, found {}",
                    kind_of(value)
                ));
            }
            "enum" | "allOf" | "anyOf" | "oneOf" | "required" if !value.is_array() => {
                issue(format!(
                    "`{key}` must be an array, found {}",
                    kind_of(value)
                ));
            }
            _ => {}
        }
    }
}

fn check_top_level(doc: &Value, issues: &mut Vec<Issue>) {
    if let Some(map) = doc.as_object() {
        for key in map.keys() {
            if !key.starts_with("x-") && !TOP_LEVEL_KEYS.contains(&key.as_str()) {
                issues.push(Issue {
                    path: format!("#/{}", escape(key)),
                    message: format!("top-level key `{key}` is not understood by the loader"),
                });
            }
        }
    }
}

/// What kind of JSON value, for messages.
pub fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Escapes one JSON pointer segment.
pub fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

type Visit<'a> = dyn FnMut(&mut Map<String, Value>, &str, &mut Vec<Issue>) + 'a;

/// Calls `visit` on every schema object of the document, parents first.
fn walk_document(doc: &mut Value, visit: &mut Visit<'_>, issues: &mut Vec<Issue>) {
    let Some(root) = doc.as_object_mut() else {
        return;
    };
    if let Some(Value::Object(components)) = root.get_mut("components") {
        let base = "#/components";
        for (section, walk) in [
            (
                "schemas",
                walk_schema as fn(&mut Value, &str, &mut Visit<'_>, &mut Vec<Issue>),
            ),
            ("parameters", walk_parameter),
            ("requestBodies", walk_content_holder),
            ("responses", walk_response),
            ("headers", walk_parameter),
        ] {
            if let Some(Value::Object(items)) = components.get_mut(section) {
                for (name, item) in items.iter_mut() {
                    walk(
                        item,
                        &format!("{base}/{section}/{}", escape(name)),
                        visit,
                        issues,
                    );
                }
            }
        }
    }
    if let Some(Value::Object(paths)) = root.get_mut("paths") {
        for (template, item) in paths.iter_mut() {
            let base = format!("#/paths/{}", escape(template));
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            walk_parameter_list(item.get_mut("parameters"), &base, visit, issues);
            for method in HTTP_METHODS {
                let Some(Value::Object(operation)) = item.get_mut(*method) else {
                    continue;
                };
                let base = format!("{base}/{method}");
                walk_parameter_list(operation.get_mut("parameters"), &base, visit, issues);
                if let Some(body) = operation.get_mut("requestBody") {
                    walk_content_holder(body, &format!("{base}/requestBody"), visit, issues);
                }
                if let Some(Value::Object(responses)) = operation.get_mut("responses") {
                    for (status, response) in responses.iter_mut() {
                        let at = format!("{base}/responses/{}", escape(status));
                        walk_response(response, &at, visit, issues);
                    }
                }
            }
        }
    }
}

fn walk_parameter_list(
    list: Option<&mut Value>,
    base: &str,
    visit: &mut Visit<'_>,
    issues: &mut Vec<Issue>,
) {
    if let Some(Value::Array(list)) = list {
        for (i, parameter) in list.iter_mut().enumerate() {
            walk_parameter(parameter, &format!("{base}/parameters/{i}"), visit, issues);
        }
    }
}

/// A parameter or a header: `schema`, or `content`.
fn walk_parameter(value: &mut Value, path: &str, visit: &mut Visit<'_>, issues: &mut Vec<Issue>) {
    if let Some(schema) = value.get_mut("schema") {
        walk_schema(schema, &format!("{path}/schema"), visit, issues);
    }
    walk_content_holder(value, path, visit, issues);
}

fn walk_response(value: &mut Value, path: &str, visit: &mut Visit<'_>, issues: &mut Vec<Issue>) {
    walk_content_holder(value, path, visit, issues);
    if let Some(Value::Object(headers)) = value.get_mut("headers") {
        for (name, header) in headers.iter_mut() {
            walk_parameter(
                header,
                &format!("{path}/headers/{}", escape(name)),
                visit,
                issues,
            );
        }
    }
}

/// Anything with `content: {media type: {schema}}`.
fn walk_content_holder(
    value: &mut Value,
    path: &str,
    visit: &mut Visit<'_>,
    issues: &mut Vec<Issue>,
) {
    if let Some(Value::Object(content)) = value.get_mut("content") {
        for (media, entry) in content.iter_mut() {
            if let Some(schema) = entry.get_mut("schema") {
                let at = format!("{path}/content/{}/schema", escape(media));
                walk_schema(schema, &at, visit, issues);
            }
        }
    }
}

fn walk_schema(value: &mut Value, path: &str, visit: &mut Visit<'_>, issues: &mut Vec<Issue>) {
    let Value::Object(schema) = value else {
        issues.push(Issue {
            path: path.to_owned(),
            message: format!("expected a schema object, found {}", kind_of(value)),
        });
        return;
    };
    visit(schema, path, issues);
    if let Some(Value::Object(properties)) = schema.get_mut("properties") {
        for (name, property) in properties.iter_mut() {
            walk_schema(
                property,
                &format!("{path}/properties/{}", escape(name)),
                visit,
                issues,
            );
        }
    }
    for key in ["items", "not"] {
        if let Some(child) = schema.get_mut(key) {
            walk_schema(child, &format!("{path}/{key}"), visit, issues);
        }
    }
    if let Some(child @ Value::Object(_)) = schema.get_mut("additionalProperties") {
        walk_schema(
            child,
            &format!("{path}/additionalProperties"),
            visit,
            issues,
        );
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(Value::Array(branches)) = schema.get_mut(key) {
            for (i, branch) in branches.iter_mut().enumerate() {
                walk_schema(branch, &format!("{path}/{key}/{i}"), visit, issues);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(rule: Rule, schema: Value) -> Result<Value, String> {
        let Value::Object(mut map) = schema else {
            panic!("test schema must be an object")
        };
        rule(&mut map).map(|()| Value::Object(map))
    }

    #[test]
    fn type_with_null_becomes_nullable() {
        let out = apply(
            type_list,
            json!({"type": ["string", "null"], "format": "date-time"}),
        );
        assert_eq!(
            out.unwrap(),
            json!({"type": "string", "nullable": true, "format": "date-time"})
        );
        let out = apply(type_list, json!({"type": ["integer"]})).unwrap();
        assert_eq!(out, json!({"type": "integer"}));
    }

    #[test]
    fn two_types_become_an_any_of_with_their_keywords() {
        let out = apply(
            type_list,
            json!({"type": ["string", "integer"], "minimum": 1, "description": "d", "externalDocs": {"url": "u"}}),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"description": "d", "externalDocs": {"url": "u"},
                   "anyOf": [{"type": "string"}, {"type": "integer", "minimum": 1}]})
        );
        let out = apply(
            type_list,
            json!({"type": ["string", "number", "null"], "minimum": 0.5, "pattern": "^x", "enum": ["x", 1.5, null]}),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"nullable": true, "anyOf": [
                {"type": "string", "pattern": "^x", "enum": ["x"]},
                {"type": "number", "minimum": 0.5, "enum": [1.5]}]})
        );
    }

    #[test]
    fn three_types_and_numeric_keywords_on_both_numeric_branches() {
        let out = apply(
            type_list,
            json!({"type": ["integer", "number", "boolean"], "maximum": 3, "enum": [1, true]}),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"anyOf": [
                {"type": "integer", "maximum": 3, "enum": [1]},
                {"type": "number", "maximum": 3},
                {"type": "boolean", "enum": [true]}]})
        );
    }

    #[test]
    fn union_keywords_that_fit_no_type_are_refused() {
        let error = apply(
            type_list,
            json!({"type": ["string", "integer"], "items": {}}),
        )
        .unwrap_err();
        assert!(error.contains("`items` applies to none"), "{error}");
        let error = apply(
            type_list,
            json!({"type": ["string", "integer"], "enum": [true]}),
        )
        .unwrap_err();
        assert!(error.contains("matches none"), "{error}");
        let error = apply(
            type_list,
            json!({"type": ["string", "integer"], "oneOf": []}),
        )
        .unwrap_err();
        assert!(error.contains("together with `oneOf`"), "{error}");
        let error = apply(type_list, json!({"type": ["string", 3]})).unwrap_err();
        assert!(error.contains("not a type name"), "{error}");
    }

    #[test]
    fn numeric_exclusive_bounds_become_booleans() {
        let out = apply(
            exclusive_bounds,
            json!({"type": "integer", "exclusiveMinimum": 0}),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"type": "integer", "minimum": 0, "exclusiveMinimum": true})
        );
        let out = apply(
            exclusive_bounds,
            json!({"exclusiveMaximum": 10, "maximum": 5}),
        )
        .unwrap();
        assert_eq!(out, json!({"maximum": 5}));
        let out = apply(
            exclusive_bounds,
            json!({"exclusiveMinimum": 3, "minimum": 1}),
        )
        .unwrap();
        assert_eq!(out, json!({"minimum": 3, "exclusiveMinimum": true}));
        let out = apply(
            exclusive_bounds,
            json!({"minimum": 1, "exclusiveMinimum": true}),
        )
        .unwrap();
        assert_eq!(out, json!({"minimum": 1, "exclusiveMinimum": true}));
        assert!(apply(exclusive_bounds, json!({"exclusiveMinimum": "0"})).is_err());
    }

    #[test]
    fn const_becomes_a_one_value_enum() {
        let out = apply(const_to_enum, json!({"type": "string", "const": "a"})).unwrap();
        assert_eq!(out, json!({"type": "string", "enum": ["a"]}));
        let out = apply(const_to_enum, json!({"const": "a", "enum": ["a", "b"]})).unwrap();
        assert_eq!(out, json!({"enum": ["a"]}));
        assert!(apply(const_to_enum, json!({"const": "c", "enum": ["a"]})).is_err());
    }

    #[test]
    fn null_branches_become_nullable() {
        let out = apply(
            null_branches,
            json!({"default": null, "anyOf": [{"type": "string", "pattern": "^a"}, {"type": "null"}]}),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"default": null, "nullable": true, "type": "string", "pattern": "^a"})
        );
        let out = apply(
            null_branches,
            json!({"oneOf": [{"$ref": "#/components/schemas/X"}, {"type": "null"}]}),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"nullable": true, "oneOf": [{"$ref": "#/components/schemas/X"}]})
        );
        let out = apply(
            null_branches,
            json!({"anyOf": [{"type": "string"}, {"type": "integer"}]}),
        );
        assert_eq!(
            out.unwrap(),
            json!({"anyOf": [{"type": "string"}, {"type": "integer"}]})
        );
    }

    #[test]
    fn null_only_becomes_an_enum_of_null() {
        let out = apply(null_only, json!({"type": "null", "default": null})).unwrap();
        assert_eq!(
            out,
            json!({"default": null, "nullable": true, "enum": [null]})
        );
        let out = apply(type_list, json!({"type": ["null"]})).unwrap();
        let out = apply(null_only, out).unwrap();
        assert_eq!(out, json!({"nullable": true, "enum": [null]}));
        assert!(apply(null_only, json!({"type": "null", "enum": [1]})).is_err());
    }

    #[test]
    fn property_names_of_plain_strings_are_dropped_and_others_refused() {
        let out = apply(
            property_names,
            json!({"type": "object", "propertyNames": {"type": "string", "description": "d"},
                   "additionalProperties": {"type": "string"}}),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"type": "object", "additionalProperties": {"type": "string"}})
        );
        for names in [
            json!({"type": "string", "pattern": "^[a-z]+$"}),
            json!({"enum": ["a", "b"]}),
            json!({"type": "string", "maxLength": 3}),
            json!(true),
        ] {
            let error = apply(
                property_names,
                json!({"type": "object", "propertyNames": names}),
            )
            .unwrap_err();
            assert!(error.contains("`propertyNames`"), "{error}");
        }
    }

    #[test]
    fn pattern_branches_become_one_pattern() {
        let out = apply(
            pattern_conjunction,
            json!({"type": "string", "minLength": 12,
                   "allOf": [{"pattern": "[a-z]"}, {"pattern": "[0-9]", "description": "d"}]}),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"type": "string", "minLength": 12,
                   "pattern": "^(?=[\\s\\S]*?(?:[a-z]))(?=[\\s\\S]*?(?:[0-9]))"})
        );
        let error = apply(
            pattern_conjunction,
            json!({"type": "string", "allOf": [{"pattern": "x"}, {"minLength": 3}]}),
        )
        .unwrap_err();
        assert!(error.contains("only hold `pattern`"), "{error}");
        let untouched = json!({"allOf": [{"$ref": "#/components/schemas/A"}]});
        assert_eq!(
            apply(pattern_conjunction, untouched.clone()).unwrap(),
            untouched
        );
    }

    #[test]
    fn write_only_is_kept_and_must_be_a_boolean() {
        let mut doc = document(json!({"type": "string", "writeOnly": true}));
        normalize(&mut doc).unwrap();
        assert_eq!(
            doc["components"]["schemas"]["Foo"]["properties"]["bar"]["writeOnly"],
            json!(true)
        );
        let mut doc = document(json!({"type": "string", "writeOnly": "yes"}));
        let issues = normalize(&mut doc).unwrap_err();
        assert!(issues[0].message.contains("`writeOnly` must be a boolean"));
    }

    fn document(schema: Value) -> Value {
        json!({"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {
            "/a/{id}": {"get": {
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": schema.clone()}],
                "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": schema.clone()}}}}
            }}},
            "components": {"schemas": {"Foo": {"type": "object", "properties": {"bar": schema}}}}})
    }

    #[test]
    fn the_whole_document_is_rewritten() {
        let mut doc = document(json!({"type": ["string", "null"], "const": "x"}));
        normalize(&mut doc).unwrap();
        let expected = json!({"type": "string", "nullable": true, "enum": ["x"]});
        assert_eq!(
            doc["components"]["schemas"]["Foo"]["properties"]["bar"],
            expected
        );
        assert_eq!(
            doc["paths"]["/a/{id}"]["get"]["parameters"][0]["schema"],
            expected
        );
        assert_eq!(
            doc["paths"]["/a/{id}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"],
            expected
        );
        // A merged branch is normalised too.
        let mut doc = document(
            json!({"anyOf": [{"type": "integer", "exclusiveMinimum": 0}, {"type": "null"}]}),
        );
        normalize(&mut doc).unwrap();
        assert_eq!(
            doc["components"]["schemas"]["Foo"]["properties"]["bar"],
            json!({"nullable": true, "type": "integer", "minimum": 0, "exclusiveMinimum": true})
        );
    }

    #[test]
    fn unknown_keywords_are_refused_with_their_path() {
        let mut doc = document(json!({"type": "string", "prefixItems": [], "x-ok": 1}));
        let issues = normalize(&mut doc).unwrap_err();
        let paths: Vec<&str> = issues.iter().map(|i| i.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "#/components/schemas/Foo/properties/bar",
                "#/paths/~1a~1{id}/get/parameters/0/schema",
                "#/paths/~1a~1{id}/get/responses/200/content/application~1json/schema",
            ]
        );
        assert!(issues[0].message.contains("`prefixItems`"), "{}", issues[0]);
    }

    #[test]
    fn refs_with_siblings_and_odd_values_are_refused() {
        let mut doc = document(json!({"$ref": "#/components/schemas/Foo", "deprecated": true}));
        let issues = normalize(&mut doc).unwrap_err();
        assert!(
            issues[0].message.contains("sibling `deprecated`"),
            "{}",
            issues[0]
        );
        let mut doc = document(json!({"$ref": "#/components/schemas/Foo", "description": "ok"}));
        normalize(&mut doc).unwrap();
        let mut doc = document(json!(true));
        let issues = normalize(&mut doc).unwrap_err();
        assert!(
            issues[0].message.contains("expected a schema object"),
            "{}",
            issues[0]
        );
        let mut doc = document(json!({"type": "string"}));
        doc["webhooks"] = json!({});
        let issues = normalize(&mut doc).unwrap_err();
        assert_eq!(issues[0].path, "#/webhooks");
    }
}
