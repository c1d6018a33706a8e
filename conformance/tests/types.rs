//! Every generated type against the spec it came from.
//!
//! - For the type of every component schema: arbitrary JSON the schema
//!   describes decodes, and the value survives encode -> decode unchanged.
//! - For every field the types mark as a secret: a value holding a secret
//!   generated here never shows it in `Debug`.

use std::fmt::Debug;
use std::sync::LazyLock;

use clickhouse_cloud_conformance::arbitrary::Shapes;
use clickhouse_cloud_conformance::spec::Spec;
use clickhouse_cloud_conformance::workspace_root;
use clickhouse_cloud_types::operation::{TypeVisitor, Wire};
use clickhouse_cloud_types::{SECRET_FIELDS, visit_schemas};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;

static SPEC: LazyLock<Spec> =
    LazyLock::new(|| Spec::load_pinned(&workspace_root()).expect("the pinned spec"));

/// Values drawn per schema.
const CASES: u32 = 24;

/// Runs `check` on `CASES` values of schema `name`; returns the failures.
fn for_values(
    shapes: &Shapes<'_>,
    name: &str,
    mut check: impl FnMut(&Value) -> Result<(), String>,
) -> Vec<String> {
    let strategy = shapes.component(name);
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        ..Config::default()
    });
    let mut failures = Vec::new();
    for _ in 0..CASES {
        let value = match strategy.new_tree(&mut runner) {
            Ok(tree) => tree.current(),
            Err(e) => return vec![format!("{name}: no value: {e}")],
        };
        if let Err(message) = check(&value) {
            failures.push(format!("{name}: {message}\n  value: {value}"));
            break;
        }
    }
    failures
}

struct RoundTrips<'a> {
    shapes: Shapes<'a>,
    seen: usize,
    failures: Vec<String>,
}

impl TypeVisitor for RoundTrips<'_> {
    fn visit<T: Wire>(&mut self, schema: &'static str) {
        self.seen += 1;
        let failures = for_values(&self.shapes, schema, |value| round_trip::<T>(value));
        self.failures.extend(failures);
    }
}

/// Decodes `value`, encodes, decodes again: both decoded values must be the
/// same (compared through their JSON and their `Debug`, as not every type
/// is `PartialEq`).
fn round_trip<T: serde::Serialize + serde::de::DeserializeOwned + Debug>(
    value: &Value,
) -> Result<(), String> {
    let decoded: T = serde_json::from_value(value.clone()).map_err(|e| format!("decode: {e}"))?;
    let printed = format!("{decoded:?}");
    if printed.contains("Other(") {
        return Err(format!(
            "a union kept a value the spec describes as unrecognised: {printed}"
        ));
    }
    let encoded = serde_json::to_value(&decoded).map_err(|e| format!("encode: {e}"))?;
    let again: T = serde_json::from_value(encoded.clone())
        .map_err(|e| format!("decode again: {e} in {encoded}"))?;
    let re_encoded = serde_json::to_value(&again).map_err(|e| format!("encode again: {e}"))?;
    if re_encoded != encoded {
        return Err(format!("changed on the way: {encoded} -> {re_encoded}"));
    }
    if format!("{decoded:?}") != format!("{again:?}") {
        return Err(format!("decoded differently: {decoded:?} / {again:?}"));
    }
    Ok(())
}

#[test]
fn every_schema_type_reads_what_the_spec_describes_and_round_trips() {
    let mut visitor = RoundTrips {
        shapes: Shapes::new(SPEC.document()),
        seen: 0,
        failures: Vec::new(),
    };
    visit_schemas(&mut visitor);
    let schemas = SPEC.document()["components"]["schemas"]
        .as_object()
        .map_or(0, serde_json::Map::len);
    assert!(schemas > 0);
    assert_eq!(visitor.seen, schemas, "a type per component schema");
    assert!(
        visitor.failures.is_empty(),
        "{} of {schemas} schemas fail:\n{}",
        visitor.failures.len(),
        visitor.failures.join("\n")
    );
}

#[test]
fn round_trip_catches_a_type_that_loses_data() {
    // The check above must be able to fail: a type that writes another
    // value than it read is caught.
    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Lossy {
        #[serde(default, skip_serializing_if = "Option::is_none", with = "halved")]
        n: Option<i64>,
    }
    mod halved {
        use serde::{Deserialize, Deserializer, Serializer};
        pub(super) fn serialize<S: Serializer>(v: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_i64(v.unwrap_or(0) / 2)
        }
        pub(super) fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<i64>, D::Error> {
            Option::<i64>::deserialize(d)
        }
    }
    assert!(round_trip::<Lossy>(&serde_json::json!({"n": 8})).is_err());
    assert!(round_trip::<Lossy>(&serde_json::json!({})).is_ok());
}

/// A secret no file holds: made at run time, shaped like nothing else.
fn fresh_secret() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("zz{:x}S3cr3t{:x}", nanos, std::process::id())
}

struct SecretsStayHidden<'a> {
    shapes: Shapes<'a>,
    secret: String,
    owners: std::collections::BTreeSet<&'static str>,
    checked: usize,
    failures: Vec<String>,
}

impl TypeVisitor for SecretsStayHidden<'_> {
    fn visit<T: Wire>(&mut self, schema: &'static str) {
        let secret = self.secret.clone();
        let holds = self.owners.contains(schema);
        let failures = for_values(&self.shapes, schema, |value| {
            let decoded: T =
                serde_json::from_value(value.clone()).map_err(|e| format!("decode: {e}"))?;
            let printed = format!("{decoded:?} {decoded:#?}");
            if printed.contains(&secret) {
                return Err(format!("`Debug` shows the secret: {printed}"));
            }
            if holds && !serde_json::to_string(&decoded).is_ok_and(|j| j.contains(&secret)) {
                return Err("the secret did not reach the value".into());
            }
            Ok(())
        });
        if holds {
            self.checked += 1;
        }
        self.failures.extend(failures);
    }
}

#[test]
fn no_type_prints_a_secret_field_in_debug() {
    let secret = fresh_secret();
    let mut visitor = SecretsStayHidden {
        shapes: Shapes::new(SPEC.document()).with_secrets(SECRET_FIELDS, &secret),
        owners: SECRET_FIELDS
            .iter()
            .map(|f| f.split('.').next().unwrap_or(f))
            .collect(),
        secret,
        checked: 0,
        failures: Vec::new(),
    };
    visit_schemas(&mut visitor);
    assert!(
        visitor.failures.is_empty(),
        "{}",
        visitor.failures.join("\n")
    );
    assert_eq!(
        visitor.checked,
        visitor.owners.len(),
        "every type with a secret field was given a secret"
    );
}

type Describe = Box<dyn Fn(&Value) -> Result<(String, Value), String>>;

/// What every schema's type makes of a JSON value (`Debug`, and the JSON it
/// writes back), by schema name.
struct Describers(std::collections::BTreeMap<&'static str, Describe>);

impl TypeVisitor for Describers {
    fn visit<T: Wire>(&mut self, schema: &'static str) {
        self.0.insert(
            schema,
            Box::new(|value| {
                let decoded =
                    serde_json::from_value::<T>(value.clone()).map_err(|e| e.to_string())?;
                let json = serde_json::to_value(&decoded).map_err(|e| e.to_string())?;
                Ok((format!("{decoded:?}"), json))
            }),
        );
    }
}

#[test]
fn every_union_branch_decodes_as_itself() {
    let mut describers = Describers(Default::default());
    visit_schemas(&mut describers);
    let shapes = Shapes::new(SPEC.document());
    let schemas = SPEC.document()["components"]["schemas"]
        .as_object()
        .expect("component schemas");
    let mut unions = 0;
    let mut failures = Vec::new();
    for (name, schema) in schemas {
        let branches: Vec<&str> = ["oneOf", "anyOf"]
            .iter()
            .filter_map(|k| schema.get(*k).and_then(Value::as_array))
            .flatten()
            .filter_map(|b| b.get("$ref").and_then(Value::as_str))
            .filter_map(|r| r.rsplit('/').next())
            .collect();
        if branches.len() < 2 {
            continue;
        }
        unions += 1;
        let union = &describers.0[name.as_str()];
        for branch in branches {
            let own = &describers.0[branch];
            // The union takes the branch, or one the value cannot tell from
            // it (the same JSON comes back): no other branch swallows it.
            failures.extend(for_values(&shapes, branch, |value| {
                let (branch_debug, branch_json) = own(value)?;
                let (union_debug, union_json) = union(value)?;
                if union_debug.contains(&branch_debug) || union_json == branch_json {
                    Ok(())
                } else {
                    Err(format!(
                        "{name} took a {branch} for another branch, losing data: {union_debug}"
                    ))
                }
            }));
        }
    }
    assert!(unions > 30, "only {unions} unions seen");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
