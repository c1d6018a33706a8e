//! Keeps secrets out of cassettes before they are written.

use clickhouse_cloud_transport::Cassette;
use clickhouse_cloud_types::SECRET_PROPERTIES;
use serde_json::Value;

/// What every `keySecret` in a response becomes. Secret scanners look for
/// `4b1d` and 38 alphanumerics; this matches nothing they look for.
pub const REDACTED_KEY_SECRET: &str = "REDACTED-key-secret-000000";
/// What every other secret-marked property (`password`, `connectionString`,
/// `secretAccessKey`, ... : [`SECRET_PROPERTIES`], from the spec) becomes,
/// in every string it holds.
pub const REDACTED_SECRET: &str = "REDACTED-secret";
/// What every `keyId` in a response (and any known key ID anywhere)
/// becomes.
pub const REDACTED_KEY_ID: &str = "REDACTED-key-id-0000";
/// What an IP address of a live recording becomes (a documentation address).
pub const REDACTED_IP: &str = "192.0.2.1";
/// What the actor details of a live recording become.
pub const REDACTED_DETAILS: &str = "REDACTED-actor-details";

/// Length of the secret shape scanners match: `4b1d` + 38.
const SECRET_SHAPE_LEN: usize = 42;

/// Scrubs cassettes: the value of every property the types mark as a secret
/// ([`SECRET_PROPERTIES`]: `keySecret`, passwords, connection strings,
/// access keys, webhook URLs, ...), `keyId` values, every secret and key ID
/// it was told about, anything shaped like a service secret, and (for live
/// recordings) actor IP addresses and details.
#[derive(Default)]
pub struct Scrubber {
    secrets: Vec<String>,
    key_ids: Vec<String>,
    live: bool,
}

impl std::fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scrubber")
            .field("secrets", &self.secrets.len())
            .field("key_ids", &self.key_ids.len())
            .field("live", &self.live)
            .finish()
    }
}

impl Scrubber {
    /// A scrubber; `live` also hides actor IP addresses and details.
    pub fn new(live: bool) -> Self {
        Self {
            live,
            ..Self::default()
        }
    }

    /// A secret to remove wherever it appears.
    pub fn secret(&mut self, secret: &str) {
        if !secret.is_empty() {
            self.secrets.push(secret.to_owned());
        }
    }

    /// A key ID to remove wherever it appears.
    pub fn key_id(&mut self, key_id: &str) {
        if !key_id.is_empty() {
            self.key_ids.push(key_id.to_owned());
        }
    }

    /// Scrubs a cassette in place.
    pub fn scrub(&self, cassette: &mut Cassette) {
        self.scrub_value(&mut cassette.request.body);
        self.scrub_value(&mut cassette.response.body);
        cassette.request.path = self.scrub_text(&cassette.request.path);
        for value in cassette.response.headers.values_mut() {
            *value = self.scrub_text(value);
        }
    }

    /// Refuses text that still holds a known secret or key ID, something
    /// shaped like a service secret, or an `Authorization` header.
    pub fn check(&self, text: &str) -> Result<(), String> {
        if self
            .secrets
            .iter()
            .any(|secret| text.contains(secret.as_str()))
        {
            return Err("a key secret survived scrubbing".into());
        }
        if self.key_ids.iter().any(|id| text.contains(id.as_str())) {
            return Err("a key ID survived scrubbing".into());
        }
        if find_secret_shape(text).is_some() {
            return Err("something shaped like a key secret survived scrubbing".into());
        }
        if text.to_ascii_lowercase().contains("\"authorization\"") {
            return Err("an Authorization header was recorded".into());
        }
        Ok(())
    }

    fn scrub_value(&self, value: &mut Value) {
        match value {
            Value::Object(map) => {
                for (name, field) in map.iter_mut() {
                    match (name.as_str(), &*field) {
                        ("keySecret", Value::String(_)) => {
                            *field = Value::String(REDACTED_KEY_SECRET.into());
                        }
                        (secret, _) if SECRET_PROPERTIES.contains(&secret) => {
                            redact_strings(field);
                        }
                        ("keyId", Value::String(_)) => {
                            *field = Value::String(REDACTED_KEY_ID.into());
                        }
                        ("actorIpAddress", Value::String(_)) if self.live => {
                            *field = Value::String(REDACTED_IP.into());
                        }
                        ("actorDetails", Value::String(_)) if self.live => {
                            *field = Value::String(REDACTED_DETAILS.into());
                        }
                        _ => self.scrub_value(field),
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|item| self.scrub_value(item)),
            Value::String(text) => *text = self.scrub_text(text),
            _ => {}
        }
    }

    fn scrub_text(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            out = out.replace(secret.as_str(), REDACTED_KEY_SECRET);
        }
        for id in &self.key_ids {
            out = out.replace(id.as_str(), REDACTED_KEY_ID);
        }
        while let Some(start) = find_secret_shape(&out) {
            out.replace_range(start..start + SECRET_SHAPE_LEN, REDACTED_KEY_SECRET);
        }
        out
    }
}

/// Every string in `value` (itself, or inside its lists and objects)
/// becomes [`REDACTED_SECRET`]; `null`, numbers and shapes stay, so the
/// cassette still decodes.
fn redact_strings(value: &mut Value) {
    match value {
        Value::String(text) => *text = REDACTED_SECRET.into(),
        Value::Array(items) => items.iter_mut().for_each(redact_strings),
        Value::Object(map) => map.values_mut().for_each(redact_strings),
        _ => {}
    }
}

/// Byte offset of the first `4b1d` followed by 38 ASCII alphanumerics.
pub fn find_secret_shape(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    (0..bytes.len().saturating_sub(SECRET_SHAPE_LEN - 1)).find(|&start| {
        bytes[start..].starts_with(b"4b1d")
            && bytes[start + 4..start + SECRET_SHAPE_LEN]
                .iter()
                .all(u8::is_ascii_alphanumeric)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clickhouse_cloud_auth::KeyMaterial;
    use serde_json::json;

    #[test]
    fn secrets_and_key_ids_are_replaced_everywhere() {
        let material = KeyMaterial::generate();
        let secret = material.key_secret().expose().to_owned();
        let id = material.key_id().as_str().to_owned();
        let other = KeyMaterial::generate().key_secret().expose().to_owned();
        let mut cassette = Cassette::from_json(
            &json!({
                "operation": "openapiKeyCreate",
                "request": {"method": "POST", "path": "/v1/x", "body": {"note": format!("id {id}")}},
                "response": {"status": 200, "body": {"result": {
                    "keyId": id, "keySecret": secret, "echo": format!("[{other}]"),
                    "key": {"actorIpAddress": "203.0.113.9"}
                }}}
            })
            .to_string(),
        )
        .unwrap();
        let mut scrubber = Scrubber::new(true);
        scrubber.secret(&secret);
        scrubber.key_id(&id);
        assert!(scrubber.check(&cassette.to_pretty_json()).is_err());
        scrubber.scrub(&mut cassette);
        let text = cassette.to_pretty_json();
        scrubber.check(&text).unwrap();
        let result = &cassette.response.body["result"];
        assert_eq!(result["keySecret"], REDACTED_KEY_SECRET);
        assert_eq!(result["keyId"], REDACTED_KEY_ID);
        assert_eq!(result["echo"], format!("[{REDACTED_KEY_SECRET}]"));
        assert_eq!(result["key"]["actorIpAddress"], REDACTED_IP);
        assert_eq!(
            cassette.request.body["note"],
            format!("id {REDACTED_KEY_ID}")
        );
    }

    #[test]
    fn every_property_the_spec_marks_secret_is_redacted() {
        let mut cassette = Cassette::from_json(
            &json!({
                "operation": "postgresServiceCreate",
                "request": {"method": "POST", "path": "/v1/x", "body": {
                    "name": "pg",
                    "source": {"connectionString": "host=db password=hunter2", "format": "csv"},
                    "headers": {"Authorization": "Bearer abc", "X-Token": "t"}
                }},
                "response": {"status": 200, "body": {"result": {
                    "password": "s3cr3t-pw", "connectionString": null, "username": "default",
                    "bucket": {"secretAccessKey": "AKIAxyz", "accessKeyId": "AKIA-id"}
                }}}
            })
            .to_string(),
        )
        .unwrap();
        Scrubber::new(false).scrub(&mut cassette);
        let request = &cassette.request.body;
        assert_eq!(request["name"], "pg");
        assert_eq!(request["source"]["connectionString"], REDACTED_SECRET);
        assert_eq!(request["source"]["format"], "csv");
        assert_eq!(
            request["headers"],
            json!({"Authorization": REDACTED_SECRET, "X-Token": REDACTED_SECRET})
        );
        let result = &cassette.response.body["result"];
        assert_eq!(result["password"], REDACTED_SECRET);
        assert_eq!(result["connectionString"], Value::Null);
        assert_eq!(result["username"], "default");
        assert_eq!(result["bucket"]["secretAccessKey"], REDACTED_SECRET);
        assert_eq!(result["bucket"]["accessKeyId"], "AKIA-id");
        let text = cassette.to_pretty_json();
        for secret in ["hunter2", "s3cr3t-pw", "AKIAxyz", "Bearer abc"] {
            assert!(!text.contains(secret), "{secret}: {text}");
        }
    }

    #[test]
    fn secret_shape_needs_all_42_characters() {
        let shaped = format!("x{}{}", "4b1d", "A".repeat(38));
        assert_eq!(find_secret_shape(&shaped), Some(1));
        assert_eq!(find_secret_shape(&shaped[..shaped.len() - 1]), None);
        assert_eq!(find_secret_shape(REDACTED_KEY_SECRET), None);
        assert_eq!(find_secret_shape(""), None);
    }
}
