//! What can go wrong between sending a request and reading its response.

use std::fmt;
use std::time::Duration;

use clickhouse_cloud_types::ErrorBody;

use crate::headers::{request_id_header, server_wait};
use crate::{HttpResponse, StatusCode};

/// Longest excerpt of an unexpected body kept in an error.
const EXCERPT_CHARS: usize = 200;

/// The service answered, and said no: a non-2xx status with its error body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// The code before the first `:` of `error` (`UNAUTHORIZED`,
    /// `BAD_REQUEST`, `TOO_MANY_REQUESTS`, ...), when there is one.
    pub code: Option<String>,
    /// The rest of `error`, or the status's reason phrase when the body has
    /// no error text.
    pub message: String,
    /// The service's `requestId`: the body's, else the first of
    /// [`crate::REQUEST_ID_HEADERS`]. What support asks for.
    pub request_id: Option<String>,
    /// How long the service asked us to wait (`Retry-After`, in seconds or
    /// as a date; without it, `X-RateLimit-Reset` once the window is spent).
    pub retry_after: Option<Duration>,
    /// What the body says about the service the operation needs (a `424`
    /// names its state and whether waking it helps), when it says anything.
    pub service_hold: Option<Box<ServiceHold>>,
}

/// Why the service cannot serve the call now, as the error body says: its
/// reason code, the state of the service it needs, and whether waking that
/// service helps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceHold {
    /// The reason code beside the message (the body's `code`, e.g.
    /// `SERVICE_IDLE`).
    pub reason: Option<String>,
    /// The state of the service the operation needs (`idle`, `stopped`,
    /// ...).
    pub service_state: Option<String>,
    /// Whether waking the service and trying again helps.
    pub can_wake: Option<bool>,
}

impl ApiError {
    /// Whether the service refused (`424`) because the service it needs is
    /// idle and waking it helps: the body says `canWake: true`, or, without
    /// `canWake`, names the reason `SERVICE_IDLE` or the state `idle`.
    ///
    /// ```
    /// use clickhouse_cloud_transport::{check_status, Error, HttpResponse, StatusCode};
    /// let response = HttpResponse {
    ///     status: StatusCode::FAILED_DEPENDENCY,
    ///     headers: Default::default(),
    ///     body: r#"{"error":"FAILED_DEPENDENCY: idle","code":"SERVICE_IDLE","serviceState":"idle","canWake":true}"#.into(),
    /// };
    /// let Err(Error::Api(error)) = check_status(response) else { panic!() };
    /// assert!(error.is_service_idle());
    /// assert_eq!(error.service_state(), Some("idle"));
    /// assert_eq!(error.reason(), Some("SERVICE_IDLE"));
    /// ```
    pub fn is_service_idle(&self) -> bool {
        let says_idle =
            self.reason() == Some("SERVICE_IDLE") || self.service_state() == Some("idle");
        self.status == StatusCode::FAILED_DEPENDENCY
            && match self.can_wake() {
                Some(can_wake) => can_wake,
                None => says_idle,
            }
    }

    /// The reason code the body gives beside the message (its `code`,
    /// e.g. `SERVICE_IDLE`).
    pub fn reason(&self) -> Option<&str> {
        self.service_hold.as_ref()?.reason.as_deref()
    }

    /// The state of the service the operation needs, when the body names
    /// it (`idle`, `stopped`, ...).
    pub fn service_state(&self) -> Option<&str> {
        self.service_hold.as_ref()?.service_state.as_deref()
    }

    /// Whether waking the service and trying again helps, when the body
    /// says.
    pub fn can_wake(&self) -> Option<bool> {
        self.service_hold.as_ref()?.can_wake
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}", self.status.as_u16())?;
        if let Some(code) = &self.code {
            write!(f, " {code}")?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " (requestId {id})")?;
        }
        if let Some(wait) = self.retry_after {
            write!(f, "; the service asked to wait {}", describe_wait(wait))?;
        }
        Ok(())
    }
}

/// A wait as a person reads it: `2.5 s`, `90 s`, `864000 s (10.0 days)`.
pub(crate) fn describe_wait(wait: Duration) -> String {
    let secs = wait.as_secs_f64();
    let exact = if wait.subsec_millis() == 0 {
        format!("{} s", wait.as_secs())
    } else {
        format!("{secs:.1} s")
    };
    if secs >= 2.0 * 86_400.0 {
        format!("{exact} ({:.1} days)", secs / 86_400.0)
    } else if secs >= 2.0 * 3_600.0 {
        format!("{exact} ({:.1} h)", secs / 3_600.0)
    } else if secs >= 120.0 {
        format!("{exact} ({:.1} min)", secs / 60.0)
    } else {
        exact
    }
}

/// Everything that can go wrong at the transport level.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The service answered with a non-2xx status and a JSON (or empty) body.
    #[error("{0}")]
    Api(ApiError),
    /// A non-2xx answer that is not the API's JSON: typically an HTML page
    /// from a gateway or CDN.
    #[error(
        "HTTP {} with a non-JSON body ({}): {excerpt}{}",
        status.as_u16(),
        content_type.as_deref().unwrap_or("no content-type"),
        request_id.as_deref().map(|id| format!(" (request ID {id})")).unwrap_or_default()
    )]
    UnexpectedBody {
        /// HTTP status.
        status: StatusCode,
        /// The `content-type` header, if any.
        content_type: Option<String>,
        /// The start of the body (its first line and on, up to 200
        /// characters), whitespace folded.
        excerpt: String,
        /// The first request ID of [`crate::REQUEST_ID_HEADERS`] the
        /// response carried (a gateway's page has no `requestId`).
        request_id: Option<String>,
    },
    /// No connection could be made; the request never reached the service.
    #[error("could not connect to {url}: {source}")]
    Connect {
        /// Where we tried to connect.
        url: String,
        /// The underlying error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The request or its response took longer than allowed.
    #[error(
        "{operation} timed out after {after:?}{}",
        request_id.as_deref().map(|id| format!(" (request ID {id})")).unwrap_or_default()
    )]
    Timeout {
        /// The operation that timed out.
        operation: &'static str,
        /// The limit that was hit.
        after: Duration,
        /// The answer's request ID, when its head arrived before the
        /// limit (the body was still coming).
        request_id: Option<String>,
    },
    /// The request was sent but the exchange failed (connection reset, body
    /// cut off, protocol error).
    #[error(
        "{operation} failed in transit: {source}{}",
        request_id.as_deref().map(|id| format!(" (request ID {id})")).unwrap_or_default()
    )]
    Io {
        /// The operation.
        operation: &'static str,
        /// The underlying error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
        /// The request ID of the answer, when its head (status and
        /// headers) arrived before the exchange broke: the first of
        /// [`crate::REQUEST_ID_HEADERS`].
        request_id: Option<String>,
    },
    /// The service answered with a redirect (`3xx`). An API client follows
    /// none: the API does not redirect, and following one would send the
    /// request (a POST, PATCH or DELETE included) somewhere else. Not
    /// retried.
    #[error(
        "{operation}: HTTP {} redirect to {}, not followed{}",
        status.as_u16(),
        location.as_deref().unwrap_or("no location"),
        request_id.as_deref().map(|id| format!(" (request ID {id})")).unwrap_or_default()
    )]
    Redirect {
        /// The operation.
        operation: &'static str,
        /// The `3xx` status.
        status: StatusCode,
        /// Where the redirect pointed (its `Location` header, at most 200
        /// characters), when it said.
        location: Option<String>,
        /// The request ID of the redirect answer, when it carried one.
        request_id: Option<String>,
    },
    /// The transport could not be configured (bad base URL, TLS set-up).
    #[error("invalid transport configuration: {0}")]
    Config(String),
    /// Rate limited on this side: the client-side limiter would hold the
    /// request back longer than the call's remaining time budget, so the
    /// call fails at once instead of sleeping into a [`Error::Timeout`].
    #[error(
        "{operation} rate limited: the next request may start in {:.1} s, \
         beyond the {:.1} s left of the call's time budget",
        wait.as_secs_f64(),
        budget_left.as_secs_f64()
    )]
    RateLimited {
        /// The operation.
        operation: &'static str,
        /// How long the request would have had to wait.
        wait: Duration,
        /// What was left of the call's time budget.
        budget_left: Duration,
    },
}

impl Error {
    /// The HTTP status, when the service answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api(api) => Some(api.status),
            Error::UnexpectedBody { status, .. } | Error::Redirect { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether the request may have reached the service and been acted on
    /// although no proper answer came back: the exchange broke after
    /// sending ([`Error::Io`]), no answer came in time ([`Error::Timeout`]),
    /// or a gateway answered `502` or `504` in the service's place.
    ///
    /// ```
    /// use std::time::Duration;
    /// use clickhouse_cloud_transport::Error;
    /// let timeout = Error::Timeout { operation: "openapiKeyCreate", after: Duration::from_secs(60), request_id: None };
    /// assert!(timeout.may_have_acted());
    /// assert!(!Error::Config("bad URL".into()).may_have_acted());
    /// ```
    pub fn may_have_acted(&self) -> bool {
        match self {
            Error::Io { source, .. } => !replay_mismatch(source.as_ref()),
            Error::Timeout { .. } => true,
            _ => self.status().is_some_and(gateway_status),
        }
    }

    /// Whether trying again later could succeed: rate limiting, gateway and
    /// availability errors, timeouts and connection failures. (Whether it is
    /// *safe* to resend a non-idempotent request is another matter: see
    /// [`crate::Retryable`].)
    pub fn is_retryable(&self) -> bool {
        let retryable_status = |status: StatusCode| {
            matches!(
                status,
                StatusCode::TOO_MANY_REQUESTS
                    | StatusCode::BAD_GATEWAY
                    | StatusCode::SERVICE_UNAVAILABLE
                    | StatusCode::GATEWAY_TIMEOUT
            )
        };
        match self {
            Error::Api(api) => retryable_status(api.status),
            Error::UnexpectedBody { status, .. } => retryable_status(*status),
            Error::Connect { .. }
            | Error::Timeout { .. }
            | Error::Io { .. }
            | Error::RateLimited { .. } => true,
            Error::Config(_) | Error::Redirect { .. } => false,
        }
    }

    /// Whether this is rate limiting: a `429` from the service, or the
    /// client-side limiter's [`Error::RateLimited`].
    pub fn is_rate_limited(&self) -> bool {
        matches!(self, Error::RateLimited { .. })
            || self.status() == Some(StatusCode::TOO_MANY_REQUESTS)
    }

    /// How long to wait before trying again, when known: the service's
    /// `Retry-After` (or rate-limit reset), or the client-side limiter's
    /// wait.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Api(api) => api.retry_after,
            Error::RateLimited { wait, .. } => Some(*wait),
            _ => None,
        }
    }

    /// A short name for the kind of failure, for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Api(_) => "api error",
            Error::UnexpectedBody { .. } => "unexpected body",
            Error::Connect { .. } => "connect error",
            Error::Timeout { .. } => "timeout",
            Error::Io { .. } => "connection error",
            Error::Config(_) => "configuration error",
            Error::RateLimited { .. } => "rate limited",
            Error::Redirect { .. } => "redirect",
        }
    }

    /// The ID of the request that failed, when the answer carried one:
    /// the body's `requestId`, else a request-ID header (a gateway's page,
    /// a redirect, an answer whose body was cut off).
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Api(api) => api.request_id.as_deref(),
            Error::UnexpectedBody { request_id, .. }
            | Error::Io { request_id, .. }
            | Error::Timeout { request_id, .. }
            | Error::Redirect { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    /// The service's error, when it sent one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(api) => Some(api),
            _ => None,
        }
    }
}

/// Whether `source` is a replay's refusal of a request it has no
/// recording for: nothing was sent anywhere, so nothing acted.
#[cfg(feature = "test-util")]
fn replay_mismatch(source: &(dyn std::error::Error + Send + Sync + 'static)) -> bool {
    source.downcast_ref::<crate::ReplayMismatch>().is_some()
}

#[cfg(not(feature = "test-util"))]
fn replay_mismatch(_: &(dyn std::error::Error + Send + Sync + 'static)) -> bool {
    false
}

/// `502` and `504`: a gateway answered in the service's place, after
/// passing the request on or while doing so.
pub(crate) fn gateway_status(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::BAD_GATEWAY | StatusCode::GATEWAY_TIMEOUT
    )
}

/// Returns a 2xx response unchanged and turns anything else into
/// [`Error::Api`] (JSON or empty body), [`Error::UnexpectedBody`], or, for
/// a `3xx`, [`Error::Redirect`] naming its `Location` (`operation` names
/// the call in that error; [`check_status`] leaves it `"unknown"`).
///
/// ```
/// use clickhouse_cloud_transport::{check_status, Error, HttpResponse, StatusCode};
/// let response = HttpResponse {
///     status: StatusCode::UNAUTHORIZED,
///     headers: Default::default(),
///     body: r#"{"status":401,"error":"UNAUTHORIZED: Key is not found","requestId":"r1"}"#.into(),
/// };
/// let Err(Error::Api(error)) = check_status(response) else { panic!() };
/// assert_eq!(error.code.as_deref(), Some("UNAUTHORIZED"));
/// assert_eq!(error.message, "Key is not found");
/// assert_eq!(error.request_id.as_deref(), Some("r1"));
/// ```
pub fn check_status(response: HttpResponse) -> Result<HttpResponse, Error> {
    check_status_of("unknown", response)
}

/// [`check_status`] for the call `operation`: a redirect's error names it.
///
/// ```
/// use clickhouse_cloud_transport::{check_status_of, Error, HttpResponse, StatusCode};
/// let mut response = HttpResponse {
///     status: StatusCode::TEMPORARY_REDIRECT,
///     headers: Default::default(),
///     body: Default::default(),
/// };
/// response.headers.insert("location", "http://elsewhere.example/v1/organizations".parse().unwrap());
/// let Err(error @ Error::Redirect { .. }) = check_status_of("organizationGetList", response) else { panic!() };
/// assert!(!error.is_retryable());
/// assert_eq!(
///     error.to_string(),
///     "organizationGetList: HTTP 307 redirect to http://elsewhere.example/v1/organizations, not followed"
/// );
/// ```
pub fn check_status_of(
    operation: &'static str,
    response: HttpResponse,
) -> Result<HttpResponse, Error> {
    if response.status.is_success() {
        return Ok(response);
    }
    let header_request_id = request_id_header(&response.headers).map(str::to_owned);
    if response.status.is_redirection() {
        let location = response
            .headers
            .get(http::header::LOCATION)
            .map(|value| excerpt(&String::from_utf8_lossy(value.as_bytes())))
            .filter(|location| !location.is_empty());
        return Err(Error::Redirect {
            operation,
            status: response.status,
            location,
            request_id: header_request_id,
        });
    }
    let Some(body) = ErrorBody::parse(&response.body) else {
        return Err(Error::UnexpectedBody {
            status: response.status,
            content_type: response.content_type().map(str::to_owned),
            excerpt: excerpt(&String::from_utf8_lossy(&response.body)),
            request_id: header_request_id,
        });
    };
    let code = body.code().map(str::to_owned);
    let message = match (body.message(), &code) {
        (Some(message), _) => message.to_owned(),
        (None, Some(_)) => String::new(),
        (None, None) => response
            .status
            .canonical_reason()
            .unwrap_or_default()
            .to_owned(),
    };
    Err(Error::Api(ApiError {
        status: response.status,
        code,
        message,
        request_id: body.request_id.or(header_request_id),
        retry_after: server_wait(response.status, &response.headers),
        service_hold: (body.reason.is_some()
            || body.service_state.is_some()
            || body.can_wake.is_some())
        .then(|| {
            Box::new(ServiceHold {
                reason: body.reason,
                service_state: body.service_state,
                can_wake: body.can_wake,
            })
        }),
    }))
}

/// The first [`EXCERPT_CHARS`] characters of `text`, whitespace folded.
pub(crate) fn excerpt(text: &str) -> String {
    let folded = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match folded.char_indices().nth(EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}…", &folded[..cut]),
        None => folded,
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
///
/// ```
/// use clickhouse_cloud_transport::safe_decode_message;
/// let error = serde_json::from_str::<u16>(r#""a secret""#).unwrap_err();
/// assert_eq!(safe_decode_message(&error), "invalid type: string, expected u16 at line 1 column 10");
/// ```
pub fn safe_decode_message(error: &serde_json::Error) -> String {
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
    use crate::Bytes;
    use http::HeaderValue;

    fn response(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status: StatusCode::from_u16(status).unwrap(),
            headers: Default::default(),
            body: body.to_owned().into(),
        }
    }

    fn api_error(status: u16, body: &str) -> ApiError {
        match check_status(response(status, body)) {
            Err(Error::Api(error)) => error,
            other => panic!("expected an API error, got {other:?}"),
        }
    }

    #[test]
    fn success_passes_through() {
        assert!(check_status(response(200, "{}")).is_ok());
        assert!(check_status(response(204, "")).is_ok());
    }

    #[test]
    fn full_error_body() {
        let error = api_error(
            403,
            r#"{"status":403,"error":"FORBIDDEN: not for you","requestId":"abc"}"#,
        );
        assert_eq!(error.status, StatusCode::FORBIDDEN);
        assert_eq!(error.code.as_deref(), Some("FORBIDDEN"));
        assert_eq!(error.message, "not for you");
        assert_eq!(error.request_id.as_deref(), Some("abc"));
        assert_eq!(
            error.to_string(),
            "HTTP 403 FORBIDDEN: not for you (requestId abc)"
        );
    }

    #[test]
    fn idle_service_fields_are_kept() {
        let error = api_error(
            424,
            r#"{"status":424,"error":"FAILED_DEPENDENCY: the service is idle","requestId":"r","code":"SERVICE_IDLE","serviceState":"idle","canWake":true}"#,
        );
        assert_eq!(error.reason(), Some("SERVICE_IDLE"));
        assert_eq!(error.service_state(), Some("idle"));
        assert_eq!(error.can_wake(), Some(true));
        assert_eq!(api_error(404, "{}").service_hold, None);
        assert!(error.is_service_idle());
        let stopped = api_error(
            424,
            r#"{"error":"FAILED_DEPENDENCY: stopped","serviceState":"stopped","canWake":false}"#,
        );
        assert!(!stopped.is_service_idle());
        assert!(!api_error(404, "").is_service_idle());
        let bare = api_error(424, r#"{"error":"FAILED_DEPENDENCY: not running"}"#);
        assert!(!bare.is_service_idle());
        let idle = api_error(424, r#"{"code":"SERVICE_IDLE"}"#);
        assert!(idle.is_service_idle());
    }

    #[test]
    fn bare_too_many_requests() {
        let error = api_error(429, r#"{"error":"TOO_MANY_REQUESTS"}"#);
        assert_eq!(error.code.as_deref(), Some("TOO_MANY_REQUESTS"));
        assert_eq!(error.message, "");
        assert_eq!(error.request_id, None);
    }

    #[test]
    fn odd_json_bodies_still_give_api_errors() {
        let error = api_error(500, r#"{"status":500.0,"error":42}"#);
        assert_eq!(error.code, None);
        assert_eq!(error.message, "Internal Server Error");
        let error = api_error(404, "");
        assert_eq!(error.message, "Not Found");
        let error = api_error(400, r#"{"error":"plain words: here"}"#);
        assert_eq!(error.code, None);
        assert_eq!(error.message, "plain words: here");
    }

    #[test]
    fn wrong_typed_error_keeps_the_request_id() {
        let error = api_error(500, r#"{"status":500,"error":42,"requestId":"r-42"}"#);
        assert_eq!(error.code, None);
        assert_eq!(error.message, "Internal Server Error");
        assert_eq!(error.request_id.as_deref(), Some("r-42"));
    }

    #[test]
    fn wrong_typed_status_keeps_the_other_fields() {
        let error = api_error(
            409,
            r#"{"status":"x","error":"CONFLICT: taken","requestId":"r-x"}"#,
        );
        assert_eq!(error.status, StatusCode::CONFLICT);
        assert_eq!(error.code.as_deref(), Some("CONFLICT"));
        assert_eq!(error.message, "taken");
        assert_eq!(error.request_id.as_deref(), Some("r-x"));
    }

    #[test]
    fn wrong_typed_request_id_falls_back_to_the_header() {
        let mut odd = response(
            400,
            r#"{"status":400,"error":"BAD_REQUEST: no","requestId":7}"#,
        );
        odd.headers
            .insert("x-request-id", HeaderValue::from_static("hdr-7"));
        let Err(Error::Api(error)) = check_status(odd) else {
            panic!()
        };
        assert_eq!(error.code.as_deref(), Some("BAD_REQUEST"));
        assert_eq!(error.message, "no");
        assert_eq!(error.request_id.as_deref(), Some("hdr-7"));
        let error = api_error(400, r#"{"error":null,"requestId":["a"]}"#);
        assert_eq!(error.message, "Bad Request");
        assert_eq!(error.request_id, None);
    }

    #[test]
    fn non_json_bodies_are_unexpected_with_an_excerpt() {
        match check_status(response(503, "  Service\n  Unavailable  ")) {
            Err(Error::UnexpectedBody { excerpt, .. }) => {
                assert_eq!(excerpt, "Service Unavailable");
            }
            other => panic!("{other:?}"),
        }
        let mut bytes = response(500, "");
        bytes.body = Bytes::from_static(b"\xff\xfe not json");
        assert!(matches!(
            check_status(bytes),
            Err(Error::UnexpectedBody { .. })
        ));
        assert!(matches!(
            check_status(response(500, r#""just a string""#)),
            Err(Error::UnexpectedBody { .. })
        ));
    }

    #[test]
    fn html_gateway_page_is_unexpected_body() {
        let mut html = response(
            502,
            "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>...</body></html>",
        );
        html.headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("text/html"),
        );
        html.headers
            .insert("x-amz-cf-id", HeaderValue::from_static("cf-7=="));
        match check_status(html) {
            Err(error @ Error::UnexpectedBody { .. }) => {
                let text = error.to_string();
                assert!(text.contains("HTTP 502"), "{text}");
                assert!(text.contains("text/html"), "{text}");
                assert!(text.contains("<title>502 Bad Gateway</title>"), "{text}");
                assert!(text.ends_with("(request ID cf-7==)"), "{text}");
                assert_eq!(error.status(), Some(StatusCode::BAD_GATEWAY));
                assert_eq!(error.request_id(), Some("cf-7=="));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            check_status(response(504, "[1,2]")),
            Err(Error::UnexpectedBody { .. })
        ));
    }

    #[test]
    fn request_id_and_retry_after_from_headers() {
        let mut limited = response(429, r#"{"error":"TOO_MANY_REQUESTS"}"#);
        limited
            .headers
            .insert("x-request-id", HeaderValue::from_static("hdr-1"));
        limited
            .headers
            .insert(http::header::RETRY_AFTER, HeaderValue::from_static("3"));
        let Err(Error::Api(error)) = check_status(limited) else {
            panic!()
        };
        assert_eq!(error.request_id.as_deref(), Some("hdr-1"));
        assert_eq!(error.retry_after, Some(Duration::from_secs(3)));

        // A window spent on another error: the reset is the wait.
        let mut spent = response(503, r#"{"requestId":"body-1"}"#);
        spent
            .headers
            .insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        spent
            .headers
            .insert("x-ratelimit-reset", HeaderValue::from_static("2"));
        spent
            .headers
            .insert("x-request-id", HeaderValue::from_static("hdr-2"));
        let error = check_status(spent).unwrap_err();
        assert_eq!(error.request_id(), Some("body-1"));
        assert_eq!(error.retry_after(), Some(Duration::from_secs(2)));
    }

    #[test]
    fn rate_limited_is_retryable_and_says_how_long() {
        let error = Error::RateLimited {
            operation: "organizationGet",
            wait: Duration::from_millis(9500),
            budget_left: Duration::from_secs(2),
        };
        assert!(error.is_retryable());
        assert!(error.is_rate_limited());
        assert_eq!(error.kind(), "rate limited");
        assert_eq!(error.retry_after(), Some(Duration::from_millis(9500)));
        assert_eq!(error.status(), None);
        assert_eq!(
            error.to_string(),
            "organizationGet rate limited: the next request may start in 9.5 s, \
             beyond the 2.0 s left of the call's time budget"
        );
        let Err(too_many) = check_status(response(429, r#"{"error":"TOO_MANY_REQUESTS"}"#)) else {
            panic!()
        };
        assert!(too_many.is_rate_limited());
        assert!(!Error::Config(String::new()).is_rate_limited());
    }

    #[test]
    fn excerpt_is_bounded() {
        let long = "x ".repeat(1000);
        let cut = excerpt(&long);
        assert!(cut.chars().count() <= EXCERPT_CHARS + 1);
        assert!(cut.ends_with('…'));
    }

    /// The message serde_json gives for `body` decoded as `T`.
    fn message_for<T: serde::de::DeserializeOwned + std::fmt::Debug>(body: &str) -> String {
        safe_decode_message(&serde_json::from_str::<T>(body).unwrap_err())
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
