//! A secret as it appears in a response body.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroize as _;

/// A secret string on the wire (the `keySecret` of a create response).
///
/// It must travel as JSON, so it serializes; it is zeroized on drop and
/// redacted in `Debug`, so a logged response never shows it.
///
/// ```
/// use clickhouse_cloud_types::SecretValue;
/// let secret = SecretValue::new("s3cr3t-for-the-example");
/// assert_eq!(format!("{secret:?}"), "SecretValue([redacted])");
/// assert_eq!(secret.expose(), "s3cr3t-for-the-example");
/// ```
#[derive(Clone)]
pub struct SecretValue(String);

impl SecretValue {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl Drop for SecretValue {
    fn drop(&mut self) {
        // Zeroes the whole allocation, spare capacity included, with writes
        // the compiler may not remove.
        self.0.zeroize();
    }
}

impl std::fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretValue([redacted])")
    }
}

impl PartialEq for SecretValue {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl Eq for SecretValue {}

impl Serialize for SecretValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.expose())
    }
}

impl<'de> Deserialize<'de> for SecretValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::new)
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for SecretValue {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "SecretValue".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_and_serde_round_trips() {
        let secret = SecretValue::new(format!("{}{}", "s3", "x".repeat(20)));
        assert_eq!(format!("{secret:?}"), "SecretValue([redacted])");
        let wire = serde_json::to_string(&secret).unwrap();
        assert_eq!(wire, format!("\"{}\"", secret.expose()));
        let back: SecretValue = serde_json::from_str(&wire).unwrap();
        assert_eq!(back, secret);
        assert_eq!(back.clone(), secret);
    }
}
