//! Unions without a discriminator: how a value finds its branch.
//!
//! The spec's `oneOf`/`anyOf` name no discriminator, so a generated union
//! enum carries, per branch, what the branch looks like on the wire
//! ([`Alt`]: JSON type, required properties, known properties, and the
//! values of properties whose values tell branches apart). [`pick`] keeps
//! the branches a value fits and, among them, takes the closest fit; a
//! value that fits none is kept as raw JSON by the union. A first branch
//! never wins just by being first: it must fit at least as well as the
//! others.
//!
//! The two-type unions of scalars have their own small types,
//! [`IntegerOrString`] and [`NumberOrString`].
//!
//! Everything here but those two types is used by generated code only: it
//! is reachable from outside as `clickhouse_cloud_types::__private`, hidden
//! from the docs and not part of the semver-stable API.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// A JSON type, as a branch expects it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonType {
    /// An object.
    Object,
    /// A string.
    String,
    /// An integer.
    Integer,
    /// Any number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// An array.
    Array,
    /// Anything.
    Any,
}

impl JsonType {
    fn admits(self, value: &Value) -> bool {
        match self {
            JsonType::Object => value.is_object(),
            JsonType::String => value.is_string(),
            JsonType::Integer => value.is_i64() || value.is_u64(),
            JsonType::Number => value.is_number(),
            JsonType::Boolean => value.is_boolean(),
            JsonType::Array => value.is_array(),
            JsonType::Any => true,
        }
    }
}

/// What one branch (or one shape of a branch that is itself a union) looks
/// like on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Alt {
    /// The JSON type.
    pub json: JsonType,
    /// Properties the branch requires.
    pub required: &'static [&'static str],
    /// Every property the branch knows.
    pub properties: &'static [&'static str],
    /// Properties whose string value tells branches apart, with the values
    /// this branch allows.
    pub values: &'static [(&'static str, &'static [&'static str])],
}

impl Alt {
    /// How well `value` fits: `None` when it cannot be this branch.
    fn fit(&self, value: &Value) -> Option<i64> {
        if !self.json.admits(value) {
            return None;
        }
        let Some(object) = value.as_object() else {
            return Some(0);
        };
        if self
            .required
            .iter()
            .any(|name| object.get(*name).is_none_or(Value::is_null))
        {
            return None;
        }
        let mut score = 0i64;
        for (name, allowed) in self.values {
            match object.get(*name) {
                Some(Value::String(s)) if allowed.contains(&s.as_str()) => score += 100,
                Some(Value::String(_)) => return None,
                _ => {}
            }
        }
        for key in object.keys() {
            if self.properties.contains(&key.as_str()) {
                score += 2;
            } else {
                score -= 3;
            }
        }
        score += self.required.len() as i64;
        Some(score)
    }
}

/// The index of the branch `value` fits best, or `None` when it fits none.
/// Ties go to the earlier branch.
pub fn pick(value: &Value, branches: &[&[Alt]]) -> Option<usize> {
    let mut best: Option<(usize, i64)> = None;
    for (index, alts) in branches.iter().enumerate() {
        let Some(score) = alts.iter().filter_map(|alt| alt.fit(value)).max() else {
            continue;
        };
        if best.is_none_or(|(_, s)| score > s) {
            best = Some((index, score));
        }
    }
    best.map(|(index, _)| index)
}

/// Shows what a JSON value looks like without showing what it says: the
/// keys of objects and the type of everything else, never a string, number
/// or boolean. The `Debug` of a union's unknown branch, which may hold a
/// credential the types never saw (a webhook's URL, its headers).
pub struct JsonShape<'a>(pub &'a Value);

impl std::fmt::Debug for JsonShape<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const MAX_DEPTH: usize = 4;
        fn shape(value: &Value, depth: usize, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            match value {
                Value::Null => f.write_str("null"),
                Value::Bool(_) => f.write_str("boolean"),
                Value::Number(_) => f.write_str("number"),
                Value::String(_) => f.write_str("string"),
                Value::Array(items) => write!(f, "array[{}]", items.len()),
                Value::Object(_) if depth >= MAX_DEPTH => f.write_str("object{..}"),
                Value::Object(map) => {
                    f.write_str("{")?;
                    for (i, (key, item)) in map.iter().enumerate() {
                        if i > 0 {
                            f.write_str(", ")?;
                        }
                        write!(f, "{key:?}: ")?;
                        shape(item, depth + 1, f)?;
                    }
                    f.write_str("}")
                }
            }
        }
        shape(self.0, 0, f)
    }
}

/// Decodes a picked branch from its JSON.
pub fn decode<T: DeserializeOwned, E: serde::de::Error>(value: Value) -> Result<T, E> {
    serde_json::from_value(value).map_err(E::custom)
}

/// The JSON Schema of a union: `anyOf` its branches (a value that fits
/// several is still one value).
#[cfg(feature = "schema")]
pub fn schema(branches: Vec<schemars::Schema>) -> schemars::Schema {
    schemars::json_schema!({ "anyOf": branches })
}

macro_rules! scalar_union {
    (
        $(#[$meta:meta])*
        $name:ident { $num:ident($num_ty:ty) = $num_schema:literal, $visit:ident }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub enum $name {
            /// A number on the wire.
            $num($num_ty),
            /// A string on the wire.
            String(String),
        }

        impl From<$num_ty> for $name {
            fn from(value: $num_ty) -> Self {
                Self::$num(value)
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self::String(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::String(value.to_owned())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self {
                    Self::$num(n) => write!(f, "{n}"),
                    Self::String(s) => f.write_str(s),
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self {
                    Self::$num(n) => n.serialize(serializer),
                    Self::String(s) => serializer.serialize_str(s),
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Visit;
                impl serde::de::Visitor<'_> for Visit {
                    type Value = $name;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str(concat!("a ", $num_schema, " or a string"))
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$name, E> {
                        Ok($name::String(v.to_owned()))
                    }
                    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<$name, E> {
                        $visit(v as f64, Some(v)).map_err(E::custom)
                    }
                    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<$name, E> {
                        $visit(v as f64, i64::try_from(v).ok()).map_err(E::custom)
                    }
                    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<$name, E> {
                        $visit(v, None).map_err(E::custom)
                    }
                }
                deserializer.deserialize_any(Visit)
            }
        }

        #[cfg(feature = "schema")]
        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn inline_schema() -> bool {
                true
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({ "anyOf": [{ "type": $num_schema }, { "type": "string" }] })
            }
        }
    };
}

fn integer(_: f64, exact: Option<i64>) -> Result<IntegerOrString, &'static str> {
    exact
        .map(IntegerOrString::Integer)
        .ok_or("an integer that fits in 64 bits, or a string")
}

fn number(value: f64, _: Option<i64>) -> Result<NumberOrString, &'static str> {
    Ok(NumberOrString::Number(value))
}

scalar_union! {
    /// A value the spec types as "integer or string" (a setting that takes
    /// `8` or `"8GB"`, say). Each form round-trips as it came.
    ///
    /// ```
    /// use clickhouse_cloud_types::IntegerOrString;
    /// let n: IntegerOrString = serde_json::from_str("42")?;
    /// let s: IntegerOrString = serde_json::from_str(r#""42MB""#)?;
    /// assert_eq!(n, IntegerOrString::Integer(42));
    /// assert_eq!(serde_json::to_string(&s)?, r#""42MB""#);
    /// assert!(serde_json::from_str::<IntegerOrString>("4.5").is_err());
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    IntegerOrString { Integer(i64) = "integer", integer }
}

scalar_union! {
    /// A value the spec types as "number or string". Each form round-trips
    /// as it came.
    ///
    /// ```
    /// use clickhouse_cloud_types::NumberOrString;
    /// assert_eq!(serde_json::from_str::<NumberOrString>("0.5")?, NumberOrString::Number(0.5));
    /// assert_eq!(serde_json::from_str::<NumberOrString>(r#""x""#)?, NumberOrString::String("x".into()));
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    NumberOrString { Number(f64) = "number", number }
}

/// Any JSON scalar: a string, a number or a boolean, each kept as it came.
///
/// For values the service types loosely (a ClickHouse setting is `8`,
/// `"8GB"`, `0.5`, `true` or `18446744073709551615`): a number keeps its
/// exact JSON form (an integer beyond `i64`, a float), so one unusual
/// value never makes a whole list fail to decode.
///
/// ```
/// use clickhouse_cloud_types::JsonScalar;
/// for wire in ["1", "0.25", "true", "18446744073709551615", r#""8GB""#] {
///     let value: JsonScalar = serde_json::from_str(wire)?;
///     assert_eq!(serde_json::to_string(&value)?, wire);
/// }
/// assert_eq!(JsonScalar::from(true), JsonScalar::Bool(true));
/// assert!(serde_json::from_str::<JsonScalar>("[1]").is_err());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum JsonScalar {
    /// A string on the wire.
    String(String),
    /// A number on the wire, exactly as written (integer or float).
    Number(serde_json::Number),
    /// `true` or `false`.
    Bool(bool),
}

impl JsonScalar {
    /// The string, if it is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            JsonScalar::String(s) => Some(s),
            _ => None,
        }
    }
}

impl From<String> for JsonScalar {
    fn from(value: String) -> Self {
        JsonScalar::String(value)
    }
}

impl From<&str> for JsonScalar {
    fn from(value: &str) -> Self {
        JsonScalar::String(value.to_owned())
    }
}

impl From<bool> for JsonScalar {
    fn from(value: bool) -> Self {
        JsonScalar::Bool(value)
    }
}

impl From<i64> for JsonScalar {
    fn from(value: i64) -> Self {
        JsonScalar::Number(value.into())
    }
}

impl From<u64> for JsonScalar {
    fn from(value: u64) -> Self {
        JsonScalar::Number(value.into())
    }
}

impl From<serde_json::Number> for JsonScalar {
    fn from(value: serde_json::Number) -> Self {
        JsonScalar::Number(value)
    }
}

impl std::fmt::Display for JsonScalar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JsonScalar::String(s) => f.write_str(s),
            JsonScalar::Number(n) => write!(f, "{n}"),
            JsonScalar::Bool(b) => write!(f, "{b}"),
        }
    }
}

impl Serialize for JsonScalar {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            JsonScalar::String(s) => serializer.serialize_str(s),
            JsonScalar::Number(n) => n.serialize(serializer),
            JsonScalar::Bool(b) => serializer.serialize_bool(*b),
        }
    }
}

impl<'de> Deserialize<'de> for JsonScalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = JsonScalar;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string, a number or a boolean")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<JsonScalar, E> {
                Ok(JsonScalar::String(v.to_owned()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<JsonScalar, E> {
                Ok(JsonScalar::String(v))
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<JsonScalar, E> {
                Ok(JsonScalar::Bool(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<JsonScalar, E> {
                Ok(JsonScalar::Number(v.into()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<JsonScalar, E> {
                Ok(JsonScalar::Number(v.into()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<JsonScalar, E> {
                serde_json::Number::from_f64(v)
                    .map(JsonScalar::Number)
                    .ok_or_else(|| E::custom("a finite number"))
            }
        }
        deserializer.deserialize_any(Visit)
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for JsonScalar {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "JsonScalar".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "anyOf": [{ "type": "string" }, { "type": "number" }, { "type": "boolean" }]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const BUILDER: Alt = Alt {
        json: JsonType::Object,
        required: &["displayType", "sourceId", "select"],
        properties: &["displayType", "sourceId", "select", "groupBy"],
        values: &[],
    };
    const RAW_SQL: Alt = Alt {
        json: JsonType::Object,
        required: &["configType", "sqlTemplate", "displayType"],
        properties: &["configType", "sqlTemplate", "displayType", "sourceId"],
        values: &[("configType", &["sql"])],
    };
    const AWS: Alt = Alt {
        json: JsonType::Object,
        required: &[],
        properties: &["bucketProvider", "bucketPath"],
        values: &[("bucketProvider", &["AWS"])],
    };
    const GCP: Alt = Alt {
        json: JsonType::Object,
        required: &[],
        properties: &["bucketProvider", "bucketPath"],
        values: &[("bucketProvider", &["GCP"])],
    };

    #[test]
    fn required_properties_and_telling_values_decide() {
        let charts: &[&[Alt]] = &[&[BUILDER], &[RAW_SQL]];
        let raw = json!({"configType": "sql", "sqlTemplate": "SELECT 1", "displayType": "line"});
        assert_eq!(pick(&raw, charts), Some(1));
        let builder = json!({"displayType": "line", "sourceId": "s", "select": []});
        assert_eq!(pick(&builder, charts), Some(0));
        let buckets: &[&[Alt]] = &[&[AWS], &[GCP]];
        // Only the value tells these apart; the second branch must win.
        assert_eq!(pick(&json!({"bucketProvider": "GCP"}), buckets), Some(1));
        assert_eq!(pick(&json!({"bucketProvider": "AWS"}), buckets), Some(0));
        assert_eq!(pick(&json!({"bucketProvider": "IBM"}), buckets), None);
        // No telling value: the closest fit, the first on a tie.
        assert_eq!(pick(&json!({"bucketPath": "p"}), buckets), Some(0));
        assert_eq!(pick(&json!("text"), buckets), None);
    }

    #[test]
    fn unknown_properties_count_against_a_branch() {
        const A: Alt = Alt {
            json: JsonType::Object,
            required: &[],
            properties: &["a"],
            values: &[],
        };
        const AB: Alt = Alt {
            json: JsonType::Object,
            required: &[],
            properties: &["a", "b"],
            values: &[],
        };
        let branches: &[&[Alt]] = &[&[A], &[AB]];
        assert_eq!(pick(&json!({"a": 1}), branches), Some(0));
        assert_eq!(pick(&json!({"a": 1, "b": 2}), branches), Some(1));
        // A branch that is itself a union fits through its best shape.
        let nested: &[&[Alt]] = &[&[GCP], &[A, AWS]];
        assert_eq!(pick(&json!({"bucketProvider": "AWS"}), nested), Some(1));
    }

    #[test]
    fn json_scalar_keeps_every_scalar_exactly() {
        for (wire, value) in [
            (r#""8GB""#, JsonScalar::from("8GB")),
            ("true", JsonScalar::Bool(true)),
            ("-3", JsonScalar::from(-3i64)),
            ("18446744073709551615", JsonScalar::from(u64::MAX)),
            (
                "0.5",
                JsonScalar::Number(serde_json::Number::from_f64(0.5).unwrap()),
            ),
        ] {
            let read: JsonScalar = serde_json::from_str(wire).unwrap();
            assert_eq!(read, value, "{wire}");
            assert_eq!(serde_json::to_string(&read).unwrap(), wire);
        }
        for not_scalar in ["null", "[1]", r#"{"a":1}"#] {
            let error = serde_json::from_str::<JsonScalar>(not_scalar).unwrap_err();
            assert!(
                error
                    .to_string()
                    .contains("a string, a number or a boolean")
            );
        }
        assert_eq!(JsonScalar::from("x").as_str(), Some("x"));
        assert_eq!(JsonScalar::from(false).to_string(), "false");
    }

    #[test]
    fn a_settings_list_with_every_kind_of_scalar_decodes() {
        let wire = r#"{"requestId":"r","result":{"settings":[
            {"name":"max_threads","value":8},
            {"name":"ratio","value":0.25},
            {"name":"async_insert","value":true},
            {"name":"max_bytes","value":18446744073709551615},
            {"name":"max_memory_usage","value":"8GB"}
        ]}}"#;
        let list: crate::Envelope<crate::ServiceClickhouseSettingsList> =
            serde_json::from_str(wire).unwrap();
        let settings = list.result.unwrap().settings.unwrap();
        let values: Vec<JsonScalar> = settings
            .iter()
            .map(|s| s.value.clone().unwrap().0)
            .collect();
        assert_eq!(
            values,
            [
                JsonScalar::from(8i64),
                JsonScalar::Number(serde_json::Number::from_f64(0.25).unwrap()),
                JsonScalar::Bool(true),
                JsonScalar::from(u64::MAX),
                JsonScalar::from("8GB"),
            ]
        );
        // Written back exactly as read.
        let back = serde_json::to_value(&settings).unwrap();
        assert_eq!(back[3]["value"], serde_json::json!(u64::MAX));
        assert_eq!(back[1]["value"], serde_json::json!(0.25));
    }

    #[test]
    fn json_shape_shows_keys_and_types_never_values() {
        let canary = format!("canary-{}", std::process::id());
        let value = json!({
            "type": "teams",
            "url": format!("https://hooks.example/{canary}"),
            "headers": {"Authorization": format!("Bearer {canary}")},
            "retries": 3,
            "on": true,
            "tags": [canary.clone()],
            "none": null,
        });
        let shown = format!("{:?}", JsonShape(&value));
        assert!(!shown.contains(&canary), "{shown}");
        assert!(
            !shown.contains("teams") && !shown.contains("Bearer"),
            "{shown}"
        );
        assert_eq!(
            shown,
            r#"{"headers": {"Authorization": string}, "none": null, "on": boolean, "retries": number, "tags": array[1], "type": string, "url": string}"#
        );
        assert_eq!(format!("{:?}", JsonShape(&json!("x"))), "string");
        let deep = json!({"a": {"b": {"c": {"d": {"e": "x"}}}}});
        assert_eq!(
            format!("{:?}", JsonShape(&deep)),
            r#"{"a": {"b": {"c": {"d": object{..}}}}}"#
        );
    }

    #[test]
    fn an_unknown_webhook_kind_keeps_its_url_and_headers_out_of_debug() {
        let canary = format!("tok{}x{}", std::process::id(), u32::MAX - 7);
        let wire = json!({
            "id": "w1", "name": "team", "service": "teams",
            "createdAt": "2025-01-01T00:00:00Z", "updatedAt": "2025-01-01T00:00:00Z",
            "url": format!("https://hooks.example/{canary}"),
            "headers": {"Authorization": format!("Bearer {canary}")},
        });
        let webhook: crate::ClickStackWebhook = serde_json::from_value(wire.clone()).unwrap();
        assert!(matches!(webhook, crate::ClickStackWebhook::Other(_)));
        let shown = format!("{webhook:?} {webhook:#?}");
        assert!(!shown.contains(&canary), "{shown}");
        assert!(!shown.contains("teams"), "{shown}");
        assert!(shown.contains(r#""url": string"#), "{shown}");
        // Still kept as it came, for whoever sends it back.
        assert_eq!(serde_json::to_value(&webhook).unwrap(), wire);
    }

    #[test]
    fn pick_takes_the_branch_with_the_required_properties() {
        const EMAIL: Alt = Alt {
            json: JsonType::Object,
            required: &["type", "emailRecipients"],
            properties: &["type", "emailRecipients"],
            values: &[],
        };
        const WEBHOOK: Alt = Alt {
            json: JsonType::Object,
            required: &["type", "webhookId"],
            properties: &["type", "webhookId", "severity"],
            values: &[],
        };
        let branches: &[&[Alt]] = &[&[EMAIL], &[WEBHOOK]];
        let value = json!({"type": "webhook", "webhookId": "w1"});
        assert_eq!(pick(&value, branches), Some(1));
        assert_eq!(pick(&json!({"type": "sms"}), branches), None);
    }

    #[test]
    fn scalar_unions_keep_their_form() {
        for (wire, value) in [
            ("7", IntegerOrString::Integer(7)),
            ("-7", IntegerOrString::Integer(-7)),
            (r#""7GiB""#, IntegerOrString::String("7GiB".into())),
        ] {
            assert_eq!(
                serde_json::from_str::<IntegerOrString>(wire).unwrap(),
                value
            );
            assert_eq!(serde_json::to_string(&value).unwrap(), wire);
        }
        assert!(serde_json::from_str::<IntegerOrString>("1.5").is_err());
        assert!(serde_json::from_str::<IntegerOrString>("18446744073709551615").is_err());
        assert!(serde_json::from_str::<IntegerOrString>("true").is_err());
        assert_eq!(
            serde_json::from_str::<NumberOrString>("2").unwrap(),
            NumberOrString::Number(2.0)
        );
        assert_eq!(IntegerOrString::from("x").to_string(), "x");
        assert_eq!(NumberOrString::from(1.5).to_string(), "1.5");
    }
}
