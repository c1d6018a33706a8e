//! The wrapper around every response body.

use serde::{Deserialize, Serialize};

/// A successful response: `{ "status", "requestId", "result" }`.
///
/// Every field may be absent; `result` is absent for operations that return
/// nothing (a DELETE).
///
/// ```
/// use clickhouse_cloud_types::{Envelope, Organization};
/// let body = r#"{"status":200,"requestId":"r-1","result":[{"name":"acme"}]}"#;
/// let envelope: Envelope<Vec<Organization>> = serde_json::from_str(body)?;
/// assert_eq!(envelope.request_id.as_deref(), Some("r-1"));
/// assert_eq!(envelope.result.unwrap()[0].name.as_deref(), Some("acme"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "proptest", derive(proptest_derive::Arbitrary))]
#[serde(rename_all = "camelCase", bound(deserialize = "T: Deserialize<'de>"))]
pub struct Envelope<T> {
    /// HTTP status code, repeated in the body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The service's ID for this request: quote it to support. Kept as an
    /// opaque string so an unusual value never fails a successful call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<T>,
}

/// A failed response: `{ "status", "error", "requestId" }`, any of which may
/// be missing (a bare `{"error":"TOO_MANY_REQUESTS"}` happens).
///
/// ```
/// use clickhouse_cloud_types::ErrorBody;
/// let body: ErrorBody = serde_json::from_str(r#"{"error":"NOT_FOUND: no such key"}"#)?;
/// assert_eq!(body.code(), Some("NOT_FOUND"));
/// assert_eq!(body.message(), Some("no such key"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "proptest", derive(proptest_derive::Arbitrary))]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// HTTP status code, repeated in the body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// `CODE: message`, or only `CODE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The service's ID for this request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl ErrorBody {
    /// Reads an error body the way a client must: `None` unless `body` is
    /// blank or a JSON object, and each field kept only when it has its
    /// type, so a wrong-typed field (`"error": 42`) loses nothing else.
    ///
    /// ```
    /// use clickhouse_cloud_types::ErrorBody;
    /// let body = ErrorBody::parse(br#"{"error":42,"requestId":"r-1"}"#).unwrap();
    /// assert_eq!(body.error, None);
    /// assert_eq!(body.request_id.as_deref(), Some("r-1"));
    /// assert_eq!(ErrorBody::parse(b""), Some(ErrorBody::default()));
    /// assert_eq!(ErrorBody::parse(b"<html>"), None);
    /// ```
    pub fn parse(body: &[u8]) -> Option<Self> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Some(Self::default());
        }
        let serde_json::Value::Object(object) = serde_json::from_slice(body).ok()? else {
            return None;
        };
        let text = |name: &str| match object.get(name) {
            Some(serde_json::Value::String(text)) => Some(text.clone()),
            _ => None,
        };
        Some(Self {
            status: object
                .get("status")
                .and_then(serde_json::Value::as_u64)
                .and_then(|status| u16::try_from(status).ok()),
            error: text("error"),
            request_id: text("requestId"),
        })
    }

    /// The upper-case code before the first `:` (`UNAUTHORIZED`,
    /// `BAD_REQUEST`, ...), when the error string starts with one.
    pub fn code(&self) -> Option<&str> {
        split_error(self.error.as_deref()?).0
    }

    /// The text after the code, or the whole error string when it has no code.
    pub fn message(&self) -> Option<&str> {
        let (_, message) = split_error(self.error.as_deref()?);
        (!message.is_empty()).then_some(message)
    }
}

/// Splits `CODE: message` into its parts. A code is one or more of
/// `[A-Z0-9_]` starting with a letter; anything else is all message.
pub(crate) fn split_error(error: &str) -> (Option<&str>, &str) {
    let is_code = |s: &str| {
        s.starts_with(|c: char| c.is_ascii_uppercase())
            && s.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
    };
    let trimmed = error.trim();
    match trimmed.split_once(':') {
        Some((code, message)) if is_code(code) => (Some(code), message.trim()),
        None if is_code(trimmed) => (Some(trimmed), ""),
        _ => (None, trimmed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_are_parsed_out() {
        assert_eq!(
            split_error("UNAUTHORIZED: Key is not found"),
            (Some("UNAUTHORIZED"), "Key is not found")
        );
        assert_eq!(
            split_error("TOO_MANY_REQUESTS"),
            (Some("TOO_MANY_REQUESTS"), "")
        );
        assert_eq!(
            split_error("something broke: badly"),
            (None, "something broke: badly")
        );
        assert_eq!(split_error(""), (None, ""));
    }

    #[test]
    fn error_bodies_are_read_field_by_field() {
        let body = ErrorBody::parse(br#"{"status":"x","error":"CONFLICT: taken","requestId":"r"}"#)
            .unwrap();
        assert_eq!(body.status, None);
        assert_eq!(body.code(), Some("CONFLICT"));
        assert_eq!(body.message(), Some("taken"));
        assert_eq!(body.request_id.as_deref(), Some("r"));
        let body = ErrorBody::parse(br#"{"status":429,"error":null,"requestId":["a"]}"#).unwrap();
        assert_eq!(body.status, Some(429));
        assert_eq!((body.error, body.request_id), (None, None));
        assert_eq!(ErrorBody::parse(b" \n "), Some(ErrorBody::default()));
        for not_an_object in [&b"[1]"[..], b"\"text\"", b"\xff\xfe", b"{\"error\":"] {
            assert_eq!(ErrorBody::parse(not_an_object), None);
        }
    }

    #[test]
    fn envelope_without_result_decodes() {
        let envelope: Envelope<()> =
            serde_json::from_str(r#"{"status":200,"requestId":"x"}"#).unwrap();
        assert_eq!(envelope.result, None);
        let envelope: Envelope<u8> = serde_json::from_str("{}").unwrap();
        assert_eq!(envelope.request_id, None);
    }
}
