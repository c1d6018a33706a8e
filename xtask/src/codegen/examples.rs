//! Example requests and answers for every operation, built from the spec:
//! the `example` values its authors wrote where they fit, and plain values
//! that satisfy the schema elsewhere.
//!
//! Two products come from them, both written by `cargo xtask codegen`:
//! - a conformance cassette per operation
//!   (`conformance/cassettes/examples/<operationId>.json`), replayed through
//!   the client and validated against the spec by `cargo xtask conformance`;
//! - the emulator's answer for every operation it does not model
//!   (`crates/clickhouse-cloud-emulator/src/generated/examples.json`).
//!
//! Everything is deterministic: the same spec gives the same bytes.
//! An author's `example` is used for a scalar only when it fits the schema
//! (its type, enum, format and bounds); objects are always built property
//! by property, so a partial object example never leaves a required field
//! out.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::plan::{BARE, SpecOp};
use crate::spec::shape::{NumberShape, ObjectShape, Shape, ShapeKind, StringShape};

/// Nested objects deeper than this hold only their required properties.
const FULL_DEPTH: usize = 6;
/// References followed before a value is cut short (`{}` or `[]`).
const MAX_DEPTH: usize = 14;

/// The one timestamp every example uses.
pub const TIME: &str = "2026-11-26T21:33:17Z";

/// What an example string holding a secret reads (the recorder's
/// placeholder): no scanner takes it for a real key secret, and it meets the
/// password rules (upper- and lower-case letters, a digit, twelve
/// characters or more).
pub const SECRET: &str = "REDACTED-key-secret-000000";

/// [`SECRET`] where the string must be a URI (a presigned URL).
pub const SECRET_URI: &str = "https://example.com/REDACTED-key-secret-000000";

/// Builds examples over a spec's component schemas.
#[derive(Debug, Clone)]
pub struct Examples<'a> {
    components: &'a BTreeMap<String, Shape>,
    secrets: &'a std::collections::BTreeSet<String>,
}

impl<'a> Examples<'a> {
    /// Examples over `components`; fields in `secrets` (`Schema.property`,
    /// or schema names) get [`SECRET`].
    pub fn new(
        components: &'a BTreeMap<String, Shape>,
        secrets: &'a std::collections::BTreeSet<String>,
    ) -> Self {
        Self {
            components,
            secrets,
        }
    }

    /// A value of `shape`; `seed` (where it sits) makes generated IDs
    /// differ from place to place.
    pub fn value(&self, shape: &Shape, seed: &str) -> Value {
        self.build(shape, seed, 0, None)
    }

    fn build(&self, shape: &Shape, seed: &str, depth: usize, component: Option<&str>) -> Value {
        match &shape.kind {
            ShapeKind::Ref(name) => {
                if self.secrets.contains(name) {
                    return match self.components.get(name).map(|s| &s.kind) {
                        Some(ShapeKind::Object(_)) => json!({ "header": SECRET }),
                        _ => json!(SECRET),
                    };
                }
                match self.components.get(name) {
                    Some(target) if depth < MAX_DEPTH => {
                        self.build(target, seed, depth + 1, Some(name))
                    }
                    Some(target) => empty_of(target),
                    None => Value::Null,
                }
            }
            ShapeKind::String(s) => string(s, shape.example.as_ref(), seed),
            ShapeKind::Integer(n) => integer(n, shape.example.as_ref()),
            ShapeKind::Number(n) => number(n, shape.example.as_ref()),
            ShapeKind::Boolean => shape
                .example
                .as_ref()
                .filter(|e| e.is_boolean())
                .cloned()
                .unwrap_or(Value::Bool(true)),
            ShapeKind::Array { items, min_items } => {
                let count = min_items.unwrap_or(1).max(1);
                if depth >= MAX_DEPTH {
                    return json!([]);
                }
                (0..count)
                    .map(|i| self.build(items, &format!("{seed}[{i}]"), depth + 1, None))
                    .collect()
            }
            ShapeKind::Object(o) => self.object(o, seed, depth, component),
            ShapeKind::AllOf(parts) => {
                let mut merged = Map::new();
                for part in parts {
                    if let Value::Object(object) = self.build(part, seed, depth, component) {
                        merged.extend(object);
                    }
                }
                Value::Object(merged)
            }
            ShapeKind::OneOf(branches) | ShapeKind::AnyOf(branches) => branches
                .iter()
                .find(|b| !matches!(b.kind, ShapeKind::Null))
                .map_or(Value::Null, |b| self.build(b, seed, depth, None)),
            ShapeKind::Null => Value::Null,
            ShapeKind::Any => shape.example.clone().unwrap_or_else(|| json!("example")),
        }
    }

    fn object(&self, o: &ObjectShape, seed: &str, depth: usize, component: Option<&str>) -> Value {
        let mut out = Map::new();
        for (name, property) in &o.properties {
            if depth > FULL_DEPTH && !o.is_required(name) {
                continue;
            }
            let item = component.map(|c| format!("{c}.{name}"));
            let value = if item.as_ref().is_some_and(|i| self.secrets.contains(i)) {
                match &property.kind {
                    ShapeKind::Array { .. } => json!([SECRET]),
                    ShapeKind::String(s) if matches!(s.format.as_deref(), Some("uri" | "url")) => {
                        json!(SECRET_URI)
                    }
                    _ => json!(SECRET),
                }
            } else {
                self.build(property, &format!("{seed}.{name}"), depth + 1, None)
            };
            out.insert(name.clone(), value);
        }
        if let Some(additional) = &o.additional
            && o.properties.is_empty()
        {
            let value = self.build(additional, &format!("{seed}.key"), depth + 1, None);
            out.insert("key".into(), value);
        }
        Value::Object(out)
    }
}

/// The example cassette of one operation, and the emulator's answer for it
/// (`{status, contentType, body}`).
pub fn cassette(examples: &Examples<'_>, op: &SpecOp) -> (Map<String, Value>, Value) {
    let mut path = op.path.clone();
    let mut query = Map::new();
    for (name, location, shape, required) in &op.params {
        // One value per parameter name across all cassettes: the same
        // organization everywhere.
        let value = examples.value(shape, &format!("param {name}"));
        let text = match &value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        match *location {
            "path" => path = path.replace(&format!("{{{name}}}"), &percent_encode(&text)),
            _ if *required => {
                let value = match value {
                    Value::Array(items) => Value::Array(
                        items
                            .into_iter()
                            .map(|v| json!(v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
                            .collect(),
                    ),
                    _ => json!(text),
                };
                query.insert(name.clone(), value);
            }
            _ => {}
        }
    }
    let body = op.body.as_ref().map_or(Value::Null, |b| {
        examples.value(b, &format!("{} body", op.id))
    });
    let (content_type, response_body) = match (op.text.as_deref(), &op.response) {
        (Some(BARE), Some(shape)) | (None, Some(shape)) => {
            let mut body = examples.value(shape, &format!("{} response", op.id));
            if let Value::Object(envelope) = &mut body {
                envelope.insert("status".into(), json!(op.status));
                if envelope.contains_key("nextCursor") {
                    envelope.insert("nextCursor".into(), Value::Null);
                }
                if envelope.contains_key("totalCount") {
                    let count = envelope
                        .get("result")
                        .and_then(Value::as_array)
                        .map_or(0, Vec::len);
                    envelope.insert("totalCount".into(), json!(count));
                }
            }
            ("application/json".to_owned(), body)
        }
        (Some(media), _) if media.contains("pem") => (media.to_owned(), json!(PEM)),
        (Some(media), _) => (media.to_owned(), json!(METRICS)),
        (None, None) => (
            "application/json".to_owned(),
            json!({"status": op.status, "requestId": uuid(&op.id)}),
        ),
    };
    let mut cassette = Map::new();
    cassette.insert("operation".into(), json!(op.id));
    cassette.insert(
        "request".into(),
        json!({"method": op.method, "path": path, "query": query, "body": body}),
    );
    cassette.insert(
        "response".into(),
        json!({"status": op.status, "headers": {"content-type": content_type}, "body": response_body}),
    );
    cassette.insert("source".into(), json!("spec-example"));
    let answer = json!({"status": op.status, "contentType": content_type, "body": response_body});
    (cassette, answer)
}

/// A Prometheus text answer.
const METRICS: &str = "# HELP ClickHouse_ServiceInfo Information about the service\n\
# TYPE ClickHouse_ServiceInfo gauge\n\
ClickHouse_ServiceInfo{clickhouse_org=\"example\",hostname=\"example\"} 1\n";

/// A certificate answer (the shape of one; not a real certificate).
const PEM: &str = "-----BEGIN CERTIFICATE-----\nTUlJQmV4YW1wbGVPbmx5Tm90QVJlYWxDZXJ0aWZpY2F0ZQ==\n-----END CERTIFICATE-----\n";

/// Percent-encodes a path segment (RFC 3986 unreserved bytes kept).
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The smallest value of a shape: used where references go too deep.
fn empty_of(shape: &Shape) -> Value {
    match &shape.kind {
        ShapeKind::Array { .. } => json!([]),
        ShapeKind::String(s) => s.values.first().map_or(json!("example"), |v| json!(v)),
        ShapeKind::Integer(_) => json!(1),
        ShapeKind::Number(_) => json!(1.0),
        ShapeKind::Boolean => json!(true),
        _ => json!({}),
    }
}

/// A UUID made from `seed`: the same place always gets the same ID.
pub fn uuid(seed: &str) -> String {
    let digest = Sha256::digest(seed.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

fn is_uuid(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn string(s: &StringShape, example: Option<&Value>, seed: &str) -> Value {
    if let Some(first) = s.values.first() {
        let fits = example
            .and_then(Value::as_str)
            .filter(|e| s.values.iter().any(|v| v == e));
        return json!(fits.unwrap_or(first));
    }
    let example = example.and_then(Value::as_str);
    let text = match s.format.as_deref() {
        Some("uuid") => example
            .filter(|e| is_uuid(e))
            .map_or_else(|| uuid(seed), str::to_owned),
        // Written as the SDK writes it, so a request round-trips byte for byte.
        Some("date-time") => example
            .and_then(|e| chrono::DateTime::parse_from_rfc3339(e).ok())
            .map_or_else(
                || TIME.to_owned(),
                |t| {
                    t.with_timezone(&chrono::Utc)
                        .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
                },
            ),
        Some("date") => example
            .filter(|e| chrono::NaiveDate::parse_from_str(e, "%Y-%m-%d").is_ok())
            .unwrap_or(&TIME[..10])
            .to_owned(),
        Some("email") => example
            .filter(|e| e.contains('@'))
            .unwrap_or("someone@example.com")
            .to_owned(),
        Some("uri" | "url") => example
            .filter(|e| e.contains("://"))
            .unwrap_or("https://example.com/")
            .to_owned(),
        Some("hostname") => example.unwrap_or("example.com").to_owned(),
        Some("ipv4") => example.unwrap_or("192.0.2.1").to_owned(),
        Some("ipv6") => example.unwrap_or("2001:db8::1").to_owned(),
        _ => match example {
            Some(e) if looks_like_a_key_secret(e) => SECRET.to_owned(),
            Some(e) if length_fits(s, e) => e.to_owned(),
            _ => {
                let mut text = String::from("example");
                if let Some(min) = s.min_length {
                    while text.chars().count() < min {
                        text.push('x');
                    }
                }
                if let Some(max) = s.max_length {
                    text = text.chars().take(max.max(1)).collect();
                }
                text
            }
        },
    };
    json!(text)
}

fn length_fits(s: &StringShape, text: &str) -> bool {
    let n = text.chars().count();
    s.min_length.is_none_or(|m| n >= m) && s.max_length.is_none_or(|m| n <= m)
}

/// `4b1d` and 38 letters or digits: what secret scanners take for a key
/// secret. Examples never carry one.
fn looks_like_a_key_secret(text: &str) -> bool {
    text.len() >= 42
        && text
            .as_bytes()
            .windows(42)
            .any(|w| w.starts_with(b"4b1d") && w[4..].iter().all(u8::is_ascii_alphanumeric))
}

fn in_bounds(n: &NumberShape, value: f64) -> bool {
    let above = match n.minimum {
        Some(min) if n.exclusive_minimum => value > min,
        Some(min) => value >= min,
        None => true,
    };
    above && n.maximum.is_none_or(|max| value <= max)
}

fn integer(n: &NumberShape, example: Option<&Value>) -> Value {
    if let Some(first) = n.values.first() {
        return first.clone();
    }
    if let Some(e) = example.and_then(Value::as_i64)
        && in_bounds(n, e as f64)
    {
        return json!(e);
    }
    let low = match n.minimum {
        Some(min) if n.exclusive_minimum => min.floor() as i64 + 1,
        Some(min) => min.ceil() as i64,
        None => 1,
    };
    let value = n.maximum.map_or(low, |max| low.min(max.floor() as i64));
    json!(value)
}

fn number(n: &NumberShape, example: Option<&Value>) -> Value {
    if let Some(first) = n.values.first().and_then(Value::as_f64) {
        return json!(first);
    }
    if let Some(e) = example.and_then(Value::as_f64)
        && in_bounds(n, e)
    {
        return json!(e);
    }
    let low = match n.minimum {
        Some(min) if n.exclusive_minimum => min + 0.5,
        Some(min) => min,
        None => 1.5,
    };
    json!(n.maximum.map_or(low, |max| low.min(max)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(value: Value) -> Shape {
        Shape::of(&serde_json::from_value(value).unwrap())
    }

    #[test]
    fn examples_are_used_where_they_fit() {
        let components = BTreeMap::new();
        let secrets = std::collections::BTreeSet::new();
        let ex = Examples::new(&components, &secrets);
        let s = shape(json!({"type": "object", "properties": {
            "id": {"type": "string", "format": "uuid", "example": "not-a-uuid"},
            "state": {"type": "string", "enum": ["a", "b"], "example": "b"},
            "bad": {"type": "string", "enum": ["a", "b"], "example": "z"},
            "n": {"type": "integer", "minimum": 5, "example": 2},
            "m": {"type": "integer", "minimum": 5, "example": 7},
            "x": {"type": "number"},
            "name": {"type": "string", "example": "prod"},
            "secretish": {"type": "string", "example": format!("4b1d{}", "A".repeat(38))}}}));
        let value = ex.value(&s, "seed");
        assert!(is_uuid(value["id"].as_str().unwrap()));
        assert_eq!(value["state"], "b");
        assert_eq!(value["bad"], "a");
        assert_eq!(value["n"], 5);
        assert_eq!(value["m"], 7);
        assert_eq!(value["x"], 1.5);
        assert_eq!(value["name"], "prod");
        assert_eq!(value["secretish"], SECRET);
        assert_eq!(ex.value(&s, "seed"), value, "deterministic");
        assert_ne!(uuid("a"), uuid("b"));
    }

    #[test]
    fn a_secret_keeps_the_format_of_a_uri() {
        let session = shape(json!({"type": "object", "properties": {
            "uploadUrl": {"type": "string", "format": "uri"},
            "token": {"type": "string"}}}));
        let components = BTreeMap::from([("Session".to_owned(), session)]);
        let secrets = std::collections::BTreeSet::from([
            "Session.uploadUrl".to_owned(),
            "Session.token".to_owned(),
        ]);
        let ex = Examples::new(&components, &secrets);
        let value = ex.value(
            &shape(json!({"$ref": "#/components/schemas/Session"})),
            "seed",
        );
        assert_eq!(value["uploadUrl"], SECRET_URI);
        assert_eq!(value["token"], SECRET);
    }
}
