//! A field that can be absent, explicitly `null`, or set.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A spec field whose type includes `null`.
///
/// Three states, because the API gives them three meanings: in a PATCH body
/// `Absent` leaves the value as it is, `Null` clears it (for `expireAt`:
/// "never expires") and `Value` sets it. Declare such fields with
/// `#[serde(default, skip_serializing_if = "Nullable::is_absent")]`.
///
/// Clearing is always spelled out ([`Nullable::Null`] or
/// [`Nullable::clear`]): an `Option` converts with `None` as
/// [`Nullable::Absent`], so a value that happens to be missing leaves the
/// field alone instead of erasing it.
///
/// ```
/// use clickhouse_cloud_types::{ApiKeyPatchRequest, Nullable, Timestamp};
/// let never = ApiKeyPatchRequest { expire_at: Nullable::clear(), ..Default::default() };
/// assert_eq!(serde_json::to_string(&never)?, r#"{"expireAt":null}"#);
/// let untouched = ApiKeyPatchRequest::default();
/// assert_eq!(serde_json::to_string(&untouched)?, "{}");
/// // A missing value leaves the expiry as it is.
/// let maybe: Option<Timestamp> = None;
/// let patch = ApiKeyPatchRequest { expire_at: maybe.into(), ..Default::default() };
/// assert_eq!(serde_json::to_string(&patch)?, "{}");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Nullable<T> {
    /// Not on the wire.
    #[default]
    Absent,
    /// On the wire as `null`.
    Null,
    /// On the wire with a value.
    Value(T),
}

impl<T> Nullable<T> {
    /// An explicit `null`: in a PATCH body, "clear this value".
    ///
    /// ```
    /// use clickhouse_cloud_types::Nullable;
    /// assert_eq!(Nullable::<u8>::clear(), Nullable::Null);
    /// ```
    pub const fn clear() -> Self {
        Nullable::Null
    }

    /// True for [`Nullable::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Nullable::Null)
    }

    /// True for [`Nullable::Absent`] (the `skip_serializing_if` predicate).
    pub fn is_absent(&self) -> bool {
        matches!(self, Nullable::Absent)
    }

    /// The value, if set.
    pub fn value(&self) -> Option<&T> {
        match self {
            Nullable::Value(value) => Some(value),
            _ => None,
        }
    }

    /// The value, if set; absent and `null` both become `None`.
    pub fn into_option(self) -> Option<T> {
        match self {
            Nullable::Value(value) => Some(value),
            _ => None,
        }
    }
}

impl<T> From<Option<T>> for Nullable<T> {
    /// `Some(v)` sets the value; `None` is [`Nullable::Absent`] (not sent).
    /// It never becomes `null`: clearing is [`Nullable::clear`].
    fn from(value: Option<T>) -> Self {
        value.map_or(Nullable::Absent, Nullable::Value)
    }
}

impl<T: Serialize> Serialize for Nullable<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Nullable::Value(value) => serializer.serialize_some(value),
            Nullable::Absent | Nullable::Null => serializer.serialize_none(),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Nullable<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // A field that is present as `null` arrives here as `None`: it is an
        // explicit `null`. A field that is not there at all never reaches
        // this function; `#[serde(default)]` makes it `Absent`.
        Ok(Option::<T>::deserialize(deserializer)?.map_or(Nullable::Null, Nullable::Value))
    }
}

#[cfg(feature = "schema")]
impl<T: schemars::JsonSchema> schemars::JsonSchema for Nullable<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        format!("Nullable_{}", T::schema_name()).into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        // `nullable: true` tells an explicit `Nullable` apart from the
        // `null` that `Option` adds for "may be absent".
        let mut schema = generator.subschema_for::<T>();
        match schema.get("type").cloned() {
            Some(serde_json::Value::String(ty)) => {
                schema.insert("type".into(), serde_json::json!([ty, "null"]));
                schema.insert("nullable".into(), true.into());
                schema
            }
            _ => schemars::json_schema!({
                "anyOf": [schema, { "type": "null" }],
                "nullable": true
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, Deserialize, Debug, PartialEq, Default)]
    struct Patch {
        #[serde(default, skip_serializing_if = "Nullable::is_absent")]
        v: Nullable<u8>,
    }

    #[test]
    fn three_states_round_trip() {
        for (value, wire) in [
            (Nullable::Absent, "{}"),
            (Nullable::Null, r#"{"v":null}"#),
            (Nullable::Value(3), r#"{"v":3}"#),
        ] {
            let patch = Patch { v: value };
            assert_eq!(serde_json::to_string(&patch).unwrap(), wire);
            assert_eq!(serde_json::from_str::<Patch>(wire).unwrap(), patch);
        }
    }

    #[test]
    fn none_from_an_option_is_absent_never_null() {
        let none: Option<u8> = None;
        let patch = Patch { v: none.into() };
        assert_eq!(patch.v, Nullable::Absent);
        assert_eq!(serde_json::to_string(&patch).unwrap(), "{}");
        assert_eq!(Nullable::from(Some(4u8)), Nullable::Value(4));
        let cleared = Patch {
            v: Nullable::clear(),
        };
        assert!(cleared.v.is_null());
        assert_eq!(serde_json::to_string(&cleared).unwrap(), r#"{"v":null}"#);
    }

    #[test]
    fn decoding_tells_null_from_absent() {
        assert_eq!(
            serde_json::from_str::<Patch>(r#"{"v":null}"#).unwrap().v,
            Nullable::Null
        );
        assert_eq!(
            serde_json::from_str::<Patch>("{}").unwrap().v,
            Nullable::Absent
        );
        assert_eq!(
            serde_json::from_str::<Patch>(r#"{"v":9}"#).unwrap().v,
            Nullable::Value(9)
        );
        assert!(serde_json::from_str::<Patch>(r#"{"v":"x"}"#).is_err());
    }
}
