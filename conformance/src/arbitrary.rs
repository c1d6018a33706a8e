//! Arbitrary JSON shaped by the spec: proptest strategies that produce, for
//! a schema of the pinned spec, values that schema describes.
//!
//! The property tests use them to feed every generated type what the
//! service may send (value from the spec -> type -> JSON -> type), and the
//! secret test to put a known secret in every field the types mark as one.
//!
//! Depth is bounded: past [`MAX_DEPTH`] nested objects, optional
//! properties are left out and arrays are empty, so the deeply nested
//! dashboard schemas stay cheap.

use std::collections::BTreeSet;

use proptest::prelude::*;
use proptest::strategy::Union;
use serde_json::{Map, Value, json};

/// How deep objects nest before only required properties are generated.
pub const MAX_DEPTH: usize = 5;

/// Builds strategies from one spec document.
#[derive(Debug, Clone)]
pub struct Shapes<'a> {
    document: &'a Value,
    /// `Schema.property` names (and schema names) that hold secrets, and the
    /// text to put in them.
    secrets: Option<(BTreeSet<String>, String)>,
}

impl<'a> Shapes<'a> {
    /// Strategies over `document` (the whole spec).
    pub fn new(document: &'a Value) -> Self {
        Self {
            document,
            secrets: None,
        }
    }

    /// Every field named in `fields` (`Schema.property`, or a schema name)
    /// is always present and holds `secret` (or, for a map, values that
    /// are `secret`).
    pub fn with_secrets(mut self, fields: &[&str], secret: &str) -> Self {
        self.secrets = Some((
            fields.iter().map(|f| (*f).to_owned()).collect(),
            secret.to_owned(),
        ));
        self
    }

    /// Values of the component schema `name`.
    pub fn component(&self, name: &str) -> BoxedStrategy<Value> {
        self.schema(
            &json!({ "$ref": format!("#/components/schemas/{name}") }),
            0,
        )
    }

    /// Values of `schema` (a schema object of the spec).
    pub fn schema(&self, schema: &Value, depth: usize) -> BoxedStrategy<Value> {
        self.of(schema, depth, None)
    }

    fn secret_text(&self, item: &str) -> Option<&str> {
        let (fields, secret) = self.secrets.as_ref()?;
        fields.contains(item).then_some(secret.as_str())
    }

    fn resolve(&self, reference: &str) -> Option<&'a Value> {
        self.document.pointer(reference.strip_prefix('#')?)
    }

    /// `component`: the schema name when `schema` is a component itself.
    fn of(&self, schema: &Value, depth: usize, component: Option<&str>) -> BoxedStrategy<Value> {
        let Some(map) = schema.as_object() else {
            return Just(Value::Null).boxed();
        };
        if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
            let name = reference.rsplit('/').next().unwrap_or_default();
            if let Some(secret) = self.secret_text(name) {
                return Just(self.secret_shape(self.resolve(reference), secret)).boxed();
            }
            return match self.resolve(reference) {
                Some(target) => self.of(target, depth, Some(name)),
                None => Just(Value::Null).boxed(),
            };
        }
        let nullable =
            map.get("nullable") == Some(&Value::Bool(true)) || type_list(map).contains(&"null");
        let inner = self.non_null(map, depth, component);
        if nullable {
            prop_oneof![1 => Just(Value::Null), 4 => inner].boxed()
        } else {
            inner
        }
    }

    fn secret_shape(&self, schema: Option<&Value>, secret: &str) -> Value {
        let is_map = schema.is_some_and(|s| s.get("additionalProperties").is_some());
        if is_map {
            json!({ "a": secret, "b": secret })
        } else {
            json!(secret)
        }
    }

    fn non_null(
        &self,
        map: &Map<String, Value>,
        depth: usize,
        component: Option<&str>,
    ) -> BoxedStrategy<Value> {
        if let Some(value) = map.get("const") {
            return Just(value.clone()).boxed();
        }
        if let Some(Value::Array(values)) = map.get("enum") {
            let values: Vec<Value> = values.iter().filter(|v| !v.is_null()).cloned().collect();
            if !values.is_empty() {
                return proptest::sample::select(values).boxed();
            }
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(Value::Array(branches)) = map.get(key) {
                let branches: Vec<BoxedStrategy<Value>> = branches
                    .iter()
                    .filter(|b| !is_null_schema(b))
                    .map(|b| self.of(b, depth, None))
                    .collect();
                if !branches.is_empty() {
                    return Union::new(branches).boxed();
                }
            }
        }
        if let Some(Value::Array(parts)) = map.get("allOf") {
            if map.get("type").and_then(Value::as_str) == Some("string") {
                return self.string(map);
            }
            let parts: Vec<BoxedStrategy<Value>> =
                parts.iter().map(|p| self.of(p, depth, None)).collect();
            return parts
                .prop_map(|values| {
                    let mut merged = Map::new();
                    for value in values {
                        if let Value::Object(object) = value {
                            merged.extend(object);
                        }
                    }
                    Value::Object(merged)
                })
                .boxed();
        }
        let types = type_list(map);
        let non_null: Vec<&str> = types.iter().copied().filter(|t| *t != "null").collect();
        if non_null.len() > 1 {
            let branches: Vec<BoxedStrategy<Value>> = non_null
                .iter()
                .map(|t| {
                    let mut only = map.clone();
                    only.insert("type".into(), json!(t));
                    self.non_null(&only, depth, component)
                })
                .collect();
            return Union::new(branches).boxed();
        }
        let kind = non_null.first().copied().or_else(|| {
            (map.contains_key("properties") || map.contains_key("additionalProperties"))
                .then_some("object")
        });
        match kind {
            Some("string") => self.string(map),
            Some("integer") => integer(map),
            Some("number") => number(map),
            Some("boolean") => any::<bool>().prop_map(Value::Bool).boxed(),
            Some("array") => {
                let items = map.get("items").cloned().unwrap_or(json!({}));
                let min = map.get("minItems").and_then(Value::as_u64).unwrap_or(0) as usize;
                let max = if depth >= MAX_DEPTH { min } else { min + 2 };
                proptest::collection::vec(self.of(&items, depth + 1, None), min..=max)
                    .prop_map(Value::Array)
                    .boxed()
            }
            Some("object") => self.object(map, depth, component),
            _ => prop_oneof![
                Just(json!(null)),
                Just(json!("any")),
                Just(json!(7)),
                Just(json!({"k": "v"}))
            ]
            .boxed(),
        }
    }

    fn string(&self, map: &Map<String, Value>) -> BoxedStrategy<Value> {
        match map.get("format").and_then(Value::as_str) {
            Some("uuid") => any::<u128>()
                .prop_map(|n| json!(uuid::Uuid::from_u128(n).to_string()))
                .boxed(),
            Some("date-time") => {
                (0i64..4_102_444_800, 0u32..1_000, 0usize..3)
                    .prop_map(|(secs, millis, style)| {
                        let t = chrono::DateTime::from_timestamp(secs, millis * 1_000_000)
                            .unwrap_or_default();
                        json!(match style {
                            0 => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                            1 => t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
                            _ => t
                                .with_timezone(&chrono::FixedOffset::east_opt(3600).unwrap_or(
                                    chrono::FixedOffset::east_opt(0).expect("zero offset")
                                ))
                                .to_rfc3339(),
                        })
                    })
                    .boxed()
            }
            Some("date") => (0i64..4_102_444_800)
                .prop_map(|secs| {
                    let t = chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default();
                    json!(t.format("%Y-%m-%d").to_string())
                })
                .boxed(),
            _ => {
                let min = map.get("minLength").and_then(Value::as_u64).unwrap_or(0);
                let max = map
                    .get("maxLength")
                    .and_then(Value::as_u64)
                    .unwrap_or(min + 12)
                    .min(min + 12);
                proptest::string::string_regex(&format!("[a-zA-Z0-9 _.-]{{{min},{max}}}"))
                    .map_or_else(|_| Just(String::new()).boxed(), Strategy::boxed)
                    .prop_map(Value::String)
                    .boxed()
            }
        }
    }

    fn object(
        &self,
        map: &Map<String, Value>,
        depth: usize,
        component: Option<&str>,
    ) -> BoxedStrategy<Value> {
        let required: BTreeSet<&str> = map
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let mut fields: Vec<BoxedStrategy<Option<(String, Value)>>> = Vec::new();
        if let Some(Value::Object(properties)) = map.get("properties") {
            for (name, schema) in properties {
                let item = component.map(|c| format!("{c}.{name}"));
                if let Some(secret) = item.as_deref().and_then(|i| self.secret_text(i)) {
                    let value = match schema.get("type") {
                        Some(Value::String(t)) if t == "array" => json!([secret]),
                        _ => json!(secret),
                    };
                    fields.push(Just(Some((name.clone(), value))).boxed());
                    continue;
                }
                let always = required.contains(name.as_str());
                if depth >= MAX_DEPTH && !always {
                    continue;
                }
                let strategy = self.of(schema, depth + 1, None);
                let name = name.clone();
                fields.push(if always {
                    strategy.prop_map(move |v| Some((name.clone(), v))).boxed()
                } else {
                    proptest::option::weighted(0.6, strategy)
                        .prop_map(move |v| v.map(|v| (name.clone(), v)))
                        .boxed()
                });
            }
        }
        let extra: BoxedStrategy<Vec<(String, Value)>> = match map.get("additionalProperties") {
            Some(schema @ Value::Object(_)) if depth < MAX_DEPTH => {
                let values = self.of(schema, depth + 1, None);
                proptest::collection::vec(("k[a-z]{1,6}", values), 0..3).boxed()
            }
            _ => Just(Vec::new()).boxed(),
        };
        (fields, extra)
            .prop_map(|(fields, extra)| {
                let mut object = Map::new();
                for (name, value) in extra {
                    object.insert(name, value);
                }
                for (name, value) in fields.into_iter().flatten() {
                    object.insert(name, value);
                }
                Value::Object(object)
            })
            .boxed()
    }
}

fn type_list(map: &Map<String, Value>) -> Vec<&str> {
    match map.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn is_null_schema(value: &Value) -> bool {
    match value.get("type") {
        Some(Value::String(t)) => t == "null",
        Some(Value::Array(list)) => list.iter().all(|t| t == "null"),
        _ => false,
    }
}

fn bounds(map: &Map<String, Value>) -> (Option<f64>, Option<f64>) {
    let mut min = map.get("minimum").and_then(Value::as_f64);
    if let Some(exclusive) = map.get("exclusiveMinimum").and_then(Value::as_f64) {
        min = Some(min.map_or(exclusive, |m| m.max(exclusive)) + 1.0);
    }
    let max = map.get("maximum").and_then(Value::as_f64);
    (min, max)
}

fn integer(map: &Map<String, Value>) -> BoxedStrategy<Value> {
    let (min, max) = bounds(map);
    let low = min.unwrap_or(-1_000.0) as i64;
    let high = max.unwrap_or(low as f64 + 100_000.0).max(low as f64) as i64;
    (low..=high).prop_map(Value::from).boxed()
}

fn number(map: &Map<String, Value>) -> BoxedStrategy<Value> {
    let (min, max) = bounds(map);
    let low = min.unwrap_or(-1_000.0);
    let high = max.unwrap_or(low + 100_000.0).max(low);
    prop_oneof![
        (low..=high).prop_map(|n| json!(n)),
        ((low.ceil() as i64)..=(high.floor() as i64).max(low.ceil() as i64))
            .prop_map(|n| json!(n as f64)),
    ]
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    fn sample(strategy: &BoxedStrategy<Value>) -> Value {
        let mut runner = TestRunner::deterministic();
        strategy.new_tree(&mut runner).unwrap().current()
    }

    #[test]
    fn objects_follow_their_schema() {
        let doc = json!({"components": {"schemas": {
            "Key": {"type": "object", "required": ["id"], "properties": {
                "id": {"type": "string", "format": "uuid"},
                "secret": {"type": "string"},
                "state": {"type": "string", "enum": ["on", "off"]},
                "count": {"type": ["integer", "null"], "minimum": 5, "maximum": 9}}}}}});
        let shapes = Shapes::new(&doc);
        let strategy = shapes.component("Key");
        let mut runner = TestRunner::deterministic();
        for _ in 0..64 {
            let value = strategy.new_tree(&mut runner).unwrap().current();
            let id = value["id"].as_str().unwrap();
            assert!(uuid::Uuid::parse_str(id).is_ok(), "{value}");
            if let Some(state) = value.get("state") {
                assert!(state == "on" || state == "off", "{value}");
            }
            if let Some(n) = value.get("count").and_then(Value::as_i64) {
                assert!((5..=9).contains(&n), "{value}");
            }
        }
        let secret = Shapes::new(&doc)
            .with_secrets(&["Key.secret"], "hush")
            .component("Key");
        assert_eq!(sample(&secret)["secret"], "hush");
    }
}
