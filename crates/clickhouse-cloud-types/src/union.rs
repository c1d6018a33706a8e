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
///
/// ```
/// use clickhouse_cloud_types::union::{pick, Alt, JsonType};
/// const EMAIL: Alt = Alt { json: JsonType::Object, required: &["type", "emailRecipients"],
///     properties: &["type", "emailRecipients"], values: &[] };
/// const WEBHOOK: Alt = Alt { json: JsonType::Object, required: &["type", "webhookId"],
///     properties: &["type", "webhookId", "severity"], values: &[] };
/// let branches: &[&[Alt]] = &[&[EMAIL], &[WEBHOOK]];
/// let value = serde_json::json!({"type": "webhook", "webhookId": "w1"});
/// assert_eq!(pick(&value, branches), Some(1));
/// assert_eq!(pick(&serde_json::json!({"type": "sms"}), branches), None);
/// ```
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
