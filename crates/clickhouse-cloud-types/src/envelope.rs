//! The wrapper around every response body.

use serde::{Deserialize, Serialize};

/// A successful response: `{ "status", "requestId", "result" }`, and on a
/// page of a list, `limit`, `totalCount` and `nextCursor`.
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
    /// On a page: the most items the page could hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// On a page: how many items all pages hold, when the service knows
    /// (best effort).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(extend("nullable" = true)))]
    pub total_count: Option<i64>,
    /// On a page: the cursor of the next page; `null` or absent on the last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(extend("nullable" = true)))]
    pub next_cursor: Option<String>,
}

/// A failed response: `{ "status", "error", "requestId" }`, any of which may
/// be missing (a bare `{"error":"TOO_MANY_REQUESTS"}` happens). Some
/// operations add a reason code, the service's state and whether it can be
/// woken (`424` while a service is idle), or validation issues.
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
#[cfg_attr(feature = "schema", schemars(extend("additionalProperties" = true)))]
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
    /// A reason code given beside the message (`SERVICE_IDLE`, ...).
    #[serde(default, rename = "code", skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The state of the service the operation needs (`idle`, `stopped`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_state: Option<String>,
    /// Whether waking the service (and trying again) can help.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub can_wake: Option<bool>,
    /// What a validation found wrong, as the service lists it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issues: Option<Vec<serde_json::Value>>,
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
            reason: text("code"),
            service_state: text("serviceState"),
            can_wake: object.get("canWake").and_then(serde_json::Value::as_bool),
            issues: object
                .get("issues")
                .and_then(serde_json::Value::as_array)
                .cloned(),
        })
    }

    /// The upper-case code before the first `:` (`UNAUTHORIZED`,
    /// `BAD_REQUEST`, ...) when the error string starts with one, else the
    /// separate reason code, if any.
    pub fn code(&self) -> Option<&str> {
        self.error
            .as_deref()
            .and_then(|e| split_error(e).0)
            .or(self.reason.as_deref())
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
    fn a_page_carries_its_cursor() {
        let page: Envelope<Vec<u8>> = serde_json::from_str(
            r#"{"status":200,"result":[1,2],"limit":2,"totalCount":null,"nextCursor":"c2"}"#,
        )
        .unwrap();
        assert_eq!(page.result, Some(vec![1, 2]));
        assert_eq!((page.limit, page.total_count), (Some(2), None));
        assert_eq!(page.next_cursor.as_deref(), Some("c2"));
        let last: Envelope<Vec<u8>> =
            serde_json::from_str(r#"{"result":[],"nextCursor":null}"#).unwrap();
        assert_eq!(last.next_cursor, None);
    }

    #[test]
    fn an_idle_service_error_says_so() {
        let wire = r#"{"error":"the service is idle","code":"SERVICE_IDLE","serviceState":"idle","canWake":true,"status":424}"#;
        let body: ErrorBody = serde_json::from_str(wire).unwrap();
        assert_eq!(body.code(), Some("SERVICE_IDLE"));
        assert_eq!(body.message(), Some("the service is idle"));
        assert_eq!(body.service_state.as_deref(), Some("idle"));
        assert_eq!(body.can_wake, Some(true));
        assert_eq!(ErrorBody::parse(wire.as_bytes()), Some(body));
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
