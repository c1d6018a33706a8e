//! The client's error: what went wrong, with the `requestId` when there is one.

use clickhouse_cloud_auth::AuthError;
use clickhouse_cloud_transport::{ApiError, StatusCode};
use clickhouse_cloud_types::operation::EncodeError;

/// Why a call failed.
///
/// No variant ever carries a key secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The service refused the request (non-2xx with its error body).
    #[error("{operation}: {error}")]
    Api {
        /// The `operationId`.
        operation: &'static str,
        /// Status, code, message and `requestId`.
        error: ApiError,
    },
    /// The request did not complete: connect failure, timeout, broken
    /// connection, a non-JSON error page, or bad transport configuration.
    #[error("{operation}: {source}")]
    Transport {
        /// The `operationId`.
        operation: &'static str,
        /// What the transport saw.
        #[source]
        source: clickhouse_cloud_transport::Error,
    },
    /// A 2xx response whose body does not match the expected type.
    #[error(
        "{operation}: response does not decode at `{path}`: {message} (requestId {})",
        request_id.as_deref().unwrap_or("none")
    )]
    Decode {
        /// The `operationId`.
        operation: &'static str,
        /// JSON path of the problem, e.g. `result[2].createdAt`.
        path: String,
        /// What serde said, without any value it quoted from the body:
        /// `invalid type: string, expected u16`.
        message: String,
        /// The body's `requestId` when it has one, else a request-ID
        /// header's.
        request_id: Option<String>,
    },
    /// The typed request could not be encoded.
    #[error("{operation}: request does not encode: {source}")]
    Encode {
        /// The `operationId`.
        operation: &'static str,
        /// Why.
        #[source]
        source: EncodeError,
    },
    /// The builder was given neither credentials nor a transport.
    #[error("no credentials: call ClientBuilder::credentials, or use Client::from_env")]
    MissingCredentials,
    /// The builder was given a transport that already retries and
    /// rate-limits (a `Resilient`): the client's own layer on top would
    /// retry each retry and wait twice.
    #[error(
        "the transport already retries and rate-limits (a Resilient): give ClientBuilder::transport \
         the transport inside it, and set retry_policy, rate_limit and total_timeout on the builder"
    )]
    StackedRetries,
    /// Credentials are missing or malformed (including ones the service
    /// returned).
    #[error(transparent)]
    Auth(#[from] AuthError),
}

impl Error {
    /// The service's error, when it answered with one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api { error, .. } => Some(error),
            _ => None,
        }
    }

    /// The HTTP status, when the service answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api { error, .. } => Some(error.status),
            Error::Transport { source, .. } => source.status(),
            _ => None,
        }
    }

    /// Whether trying again later could succeed (rate limited, gateway or
    /// availability error, timeout, connection failure). The client already
    /// retried what was safe to retry before returning this.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api { error, .. } => {
                clickhouse_cloud_transport::Error::Api(error.clone()).is_retryable()
            }
            Error::Transport { source, .. } => source.is_retryable(),
            _ => false,
        }
    }

    /// Whether the call was rate limited: a `429` after the client's
    /// retries, or the client-side limiter refusing a wait longer than the
    /// call's remaining time budget
    /// ([`clickhouse_cloud_transport::Error::RateLimited`]).
    pub fn is_rate_limited(&self) -> bool {
        match self {
            Error::Api { error, .. } => error.status == StatusCode::TOO_MANY_REQUESTS,
            Error::Transport { source, .. } => source.is_rate_limited(),
            _ => false,
        }
    }

    /// How long to wait before trying again, when known (the service's
    /// `Retry-After`, or the client-side limiter's wait).
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            Error::Api { error, .. } => error.retry_after,
            Error::Transport { source, .. } => source.retry_after(),
            _ => None,
        }
    }

    /// The `requestId` to quote to support, when the answer carried one:
    /// the body's, else a request-ID header's (a gateway's HTML page has
    /// only the latter).
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Api { error, .. } => error.request_id.as_deref(),
            Error::Transport { source, .. } => source.request_id(),
            Error::Decode { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    pub(crate) fn from_transport(
        operation: &'static str,
        source: clickhouse_cloud_transport::Error,
    ) -> Self {
        match source {
            clickhouse_cloud_transport::Error::Api(error) => Error::Api { operation, error },
            source => Error::Transport { operation, source },
        }
    }
}

/// serde's message about a body, without any value it quotes from that
/// body: the one place a decode message is made safe to show.
///
/// serde says `<what it found>, expected <what the type wants>`; the first
/// part may quote the body (`invalid type: string "…"`, `unknown variant
/// `…``), the second names the type only. Every quoted value of the first
/// part is dropped (`invalid type: string, expected u16`); a message without
/// that shape loses every quoted value, except a `missing field` or
/// `duplicate field` name, which is the type's. Syntax errors (`expected
/// `,` or `}` at line 1 column 9`) quote nothing and stay as they are.
pub(crate) fn serde_message(error: &serde_json::Error) -> String {
    let text = error.to_string();
    if error.classify() != serde_json::error::Category::Data {
        return text;
    }
    // serde_json's ` at line L column C` suffix quotes nothing: keep it.
    let (message, position) = match text.rfind(" at line ") {
        Some(at) if text[at..].contains(" column ") => text.split_at(at),
        _ => (text.as_str(), ""),
    };
    let names_a_field =
        message.starts_with("missing field ") || message.starts_with("duplicate field ");
    let sanitized = match message.split_once(", expected ") {
        Some((found, expected)) => format!("{}, expected {expected}", without_quoted(found)),
        None if names_a_field => message.to_owned(),
        None => without_quoted(message),
    };
    format!("{sanitized}{position}")
}

/// `text` without its `"…"` (escapes honoured) and `` `…` `` spans, spaces
/// folded.
fn without_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
            }
            '`' => {
                for c in chars.by_ref() {
                    if c == '`' {
                        break;
                    }
                }
            }
            c => out.push(c),
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The message serde_json gives for `body` decoded as `T`.
    fn message_for<T: serde::de::DeserializeOwned + std::fmt::Debug>(body: &str) -> String {
        serde_message(&serde_json::from_str::<T>(body).unwrap_err())
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Strict {
        count: u16,
        kind: Kind,
        flag: Option<bool>,
    }

    #[derive(Debug, serde::Deserialize)]
    enum Kind {
        #[serde(rename = "a")]
        A,
    }

    #[test]
    fn values_from_the_body_are_dropped_and_the_type_kept() {
        let material = clickhouse_cloud_auth::KeyMaterial::generate();
        let secret = material.key_secret().expose();
        for (body, expected) in [
            (
                format!(r#"{{"count":"{secret}"}}"#),
                "invalid type: string, expected u16",
            ),
            (
                format!(r#"{{"count":1,"kind":"{secret}"}}"#),
                "unknown variant, expected `a`",
            ),
            (
                format!(r#"{{"count":1,"kind":"a","{secret}":1}}"#),
                "unknown field, expected one of `count`, `kind`, `flag`",
            ),
            (
                format!(r#"{{"count":1,"kind":"a","flag":"{secret}\"q"}}"#),
                "invalid type: string, expected a boolean",
            ),
            (
                r#"{"count":70000}"#.to_owned(),
                "invalid value: integer, expected u16",
            ),
            (r#"{"count":1}"#.to_owned(), "missing field `kind`"),
        ] {
            let message = message_for::<Strict>(&body);
            let (text, position) = message.split_at(message.rfind(" at line 1 column ").unwrap());
            assert_eq!(text, expected, "{body}");
            assert!(
                position[" at line 1 column ".len()..]
                    .parse::<u32>()
                    .is_ok()
            );
            assert!(!message.contains(secret));
        }
    }

    #[test]
    fn syntax_errors_are_left_alone() {
        assert_eq!(
            message_for::<Strict>(r#"{"count" 1}"#),
            "expected `:` at line 1 column 10"
        );
        assert_eq!(without_quoted(r#"a "b\"c" `d` e"#), "a e");
    }
}
