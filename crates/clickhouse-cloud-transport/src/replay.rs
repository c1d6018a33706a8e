//! Recorded interactions ("cassettes") and a transport that serves them.
//!
//! A [`Cassette`] is one request and its response, stored as pretty JSON:
//!
//! ```json
//! {
//!   "operation": "openapiKeyGetList",
//!   "request": { "method": "GET", "path": "/v1/organizations/<uuid>/keys", "query": {}, "body": null },
//!   "response": { "status": 200, "headers": { "content-type": "application/json" },
//!                 "body": { "status": 200, "requestId": "<uuid>", "result": [] } }
//! }
//! ```
//!
//! A body is JSON, `null` for none, or a string holding the raw text of a
//! body that is not JSON (an HTML page, PEM, Prometheus text). Request
//! headers are never part of a cassette, so an `Authorization` header cannot
//! end up in one. The `Debug` of a cassette and of its halves shows method,
//! path, status, content type and body lengths, never a body.
//!
//! [`ReplayTransport`] serves cassettes in order and refuses any request that
//! differs from the recorded one, saying exactly what differs.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{BoxFuture, Error, HttpRequest, HttpResponse, Transport};

/// Response headers a recording keeps (lower case), besides the request-ID
/// headers ([`crate::REQUEST_ID_HEADERS`]) and the `x-ratelimit-` family.
/// Everything else (cookies, dates, tracing) is dropped.
pub const RECORDED_HEADERS: &[&str] = &["content-type", "retry-after"];

/// Prefix of the rate-limit headers a recording keeps.
const RATE_LIMIT_PREFIX: &str = "x-ratelimit-";

/// Longest rendering of one JSON value inside a difference.
const VALUE_CHARS: usize = 120;

/// One recorded exchange: the operation, the request the client sent and the
/// response it got.
///
/// Fields this type does not know (notes, provenance, expectations of other
/// tools) are kept in [`Cassette::extra`] and written back unchanged.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Cassette {
    /// The spec's `operationId`.
    pub operation: String,
    /// What the client sent.
    pub request: RecordedRequest,
    /// What came back.
    pub response: RecordedResponse,
    /// Any other top-level fields, kept as they are.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The request half of a [`Cassette`]. It has no headers, by design.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// HTTP method, upper case.
    pub method: String,
    /// Path from the API root, percent-encoded as sent.
    pub path: String,
    /// Query parameters by name.
    #[serde(default)]
    pub query: BTreeMap<String, QueryValue>,
    /// JSON body, `null` for none, or a string for a non-JSON body.
    #[serde(default)]
    pub body: Value,
}

/// The value of one query parameter: one string, or several when the
/// parameter repeats.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum QueryValue {
    /// `?name=value`.
    One(String),
    /// `?name=a&name=b`.
    Many(Vec<String>),
}

impl QueryValue {
    /// The values in order.
    pub fn values(&self) -> Vec<&str> {
        match self {
            QueryValue::One(value) => vec![value.as_str()],
            QueryValue::Many(values) => values.iter().map(String::as_str).collect(),
        }
    }

    fn to_json(&self) -> Value {
        match self {
            QueryValue::One(value) => Value::String(value.clone()),
            QueryValue::Many(values) => {
                Value::Array(values.iter().cloned().map(Value::String).collect())
            }
        }
    }
}

/// The response half of a [`Cassette`].
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedResponse {
    /// HTTP status.
    pub status: u16,
    /// Selected response headers (see [`Cassette::from_exchange`]),
    /// lower-case names.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// JSON body, `null` for an empty one, or a string for a non-JSON body.
    #[serde(default)]
    pub body: Value,
}

impl fmt::Debug for Cassette {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let extra: Vec<&str> = self.extra.keys().map(String::as_str).collect();
        f.debug_struct("Cassette")
            .field("operation", &self.operation)
            .field("request", &self.request)
            .field("response", &self.response)
            .field("extra", &extra)
            .finish()
    }
}

impl fmt::Debug for RecordedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let query: Vec<&str> = self.query.keys().map(String::as_str).collect();
        f.debug_struct("RecordedRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &query)
            .field("body_len", &body_len(&self.body))
            .finish()
    }
}

impl fmt::Debug for RecordedResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let content_type = self
            .headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
            .map(|(_, value)| value.as_str());
        f.debug_struct("RecordedResponse")
            .field("status", &self.status)
            .field("content_type", &content_type)
            .field("body_len", &body_len(&self.body))
            .finish_non_exhaustive()
    }
}

/// The length in bytes of the body a cassette value stands for, `None` for
/// no body.
fn body_len(body: &Value) -> Option<usize> {
    (!body.is_null()).then(|| body_bytes(body).len())
}

/// Why a cassette file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CassetteError {
    /// The file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a cassette.
    #[error("{}: {source}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// Where and why.
        #[source]
        source: FormatError,
    },
}

/// Text that is not a cassette: where, and why (never a value quoted from
/// the text: see [`crate::safe_decode_message`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a cassette at `{at}`: {message}")]
pub struct FormatError {
    /// JSON path of the problem, e.g. `response.status` (`.` for the whole).
    pub at: String,
    /// What is wrong there.
    pub message: String,
}

impl Cassette {
    /// Parses a cassette from JSON text; the error names the JSON path of
    /// the problem.
    pub fn from_json(text: &str) -> Result<Self, FormatError> {
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let cassette: Self =
            serde_path_to_error::deserialize(&mut deserializer).map_err(|e| FormatError {
                at: e.path().to_string(),
                message: crate::safe_decode_message(e.inner()),
            })?;
        deserializer.end().map_err(|e| FormatError {
            at: ".".to_owned(),
            message: crate::safe_decode_message(&e),
        })?;
        Ok(cassette)
    }

    /// Reads a cassette file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, CassetteError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| CassetteError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::from_json(&text).map_err(|source| CassetteError::Format {
            path: path.to_owned(),
            source,
        })
    }

    /// Pretty JSON with a final newline: the on-disk form.
    pub fn to_pretty_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self)
            .unwrap_or_else(|_| unreachable!("a cassette is plain JSON data"));
        text.push('\n');
        text
    }

    /// Writes the cassette to `path`, creating its folder.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), CassetteError> {
        let path = path.as_ref();
        let io = |source| CassetteError::Io {
            path: path.to_owned(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        std::fs::write(path, self.to_pretty_json()).map_err(io)
    }

    /// Captures one exchange. Request headers are not part of
    /// [`HttpRequest`], and only [`RECORDED_HEADERS`], the request-ID
    /// headers ([`crate::REQUEST_ID_HEADERS`]) and `x-ratelimit-*` response
    /// headers are kept.
    pub fn from_exchange(request: &HttpRequest, response: &HttpResponse) -> Self {
        let mut query: BTreeMap<String, QueryValue> = BTreeMap::new();
        for (name, value) in &request.query {
            let entry = query
                .entry(name.clone())
                .or_insert_with(|| QueryValue::Many(Vec::new()));
            match entry {
                QueryValue::Many(values) => values.push(value.clone()),
                QueryValue::One(first) => {
                    *entry = QueryValue::Many(vec![first.clone(), value.clone()]);
                }
            }
        }
        for value in query.values_mut() {
            if let QueryValue::Many(values) = value
                && values.len() == 1
            {
                *value = QueryValue::One(values.remove(0));
            }
        }
        let headers = response
            .headers
            .iter()
            .filter(|(name, _)| {
                let name = name.as_str();
                RECORDED_HEADERS.contains(&name)
                    || crate::REQUEST_ID_HEADERS.contains(&name)
                    || name.starts_with(RATE_LIMIT_PREFIX)
            })
            .filter_map(|(name, value)| {
                Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
            })
            .collect();
        Cassette {
            operation: request.operation.to_owned(),
            request: RecordedRequest {
                method: request.method.as_str().to_owned(),
                path: request.path.clone(),
                query,
                body: request.body.as_deref().map_or(Value::Null, body_value),
            },
            response: RecordedResponse {
                status: response.status.as_u16(),
                headers,
                body: body_value(&response.body),
            },
            extra: Map::new(),
        }
    }

    /// The recorded response as the transport returns it.
    pub fn to_response(&self) -> HttpResponse {
        let status =
            StatusCode::from_u16(self.response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut headers = HeaderMap::new();
        for (name, value) in &self.response.headers {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                headers.append(name, value);
            }
        }
        HttpResponse {
            status,
            headers,
            body: body_bytes(&self.response.body),
        }
    }

    /// The recorded `content-type`, if any.
    pub fn content_type(&self) -> Option<&str> {
        self.response
            .headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
            .map(|(_, value)| value.as_str())
    }

    /// The recorded response's request ID, read as the client reads it
    /// ([`HttpResponse::request_id`]).
    pub fn request_id(&self) -> Option<String> {
        self.to_response().request_id()
    }

    /// Whether the recorded response body is JSON (an object, array, number
    /// or boolean) rather than raw text or nothing.
    pub fn has_json_body(&self) -> bool {
        !matches!(self.response.body, Value::Null | Value::String(_))
    }

    /// Every difference between this cassette's request and `request`, one
    /// line each (`body.name: recorded "a", sent "b"`); empty when they
    /// match. Bodies are compared as JSON, query parameters regardless of
    /// their order.
    pub fn request_differences(&self, request: &HttpRequest) -> Vec<String> {
        let recorded = &self.request;
        let mut out = Vec::new();
        let quoted = |s: &str| Value::String(s.to_owned()).to_string();
        if self.operation != request.operation {
            out.push(format!(
                "operation: recorded {}, sent {}",
                quoted(&self.operation),
                quoted(request.operation)
            ));
        }
        if !recorded
            .method
            .eq_ignore_ascii_case(request.method.as_str())
        {
            out.push(format!(
                "method: recorded {}, sent {}",
                quoted(&recorded.method),
                quoted(request.method.as_str())
            ));
        }
        if recorded.path != request.path {
            out.push(format!(
                "path: recorded {}, sent {}",
                quoted(&recorded.path),
                quoted(&request.path)
            ));
        }
        let recorded_query: Map<String, Value> = recorded
            .query
            .iter()
            .map(|(name, value)| (name.clone(), value.to_json()))
            .collect();
        let sent_query = Cassette::from_exchange(request, &empty_response())
            .request
            .query
            .iter()
            .map(|(name, value)| (name.clone(), value.to_json()))
            .collect();
        if let Some(difference) =
            json_difference(&Value::Object(recorded_query), &Value::Object(sent_query))
        {
            out.push(difference.describe("query"));
        }
        let sent_body = request.body.as_deref().map_or(Value::Null, body_value);
        if let Some(difference) = json_difference(&recorded.body, &sent_body) {
            out.push(difference.describe("body"));
        }
        out
    }
}

fn empty_response() -> HttpResponse {
    HttpResponse {
        status: StatusCode::OK,
        headers: HeaderMap::new(),
        body: Bytes::new(),
    }
}

/// How a body is kept in a cassette: nothing is `null`, JSON (other than a
/// bare string or `null`) is its value, anything else its text.
pub fn body_value(bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(value) if !matches!(value, Value::Null | Value::String(_)) => value,
        _ => Value::String(String::from_utf8_lossy(bytes).into_owned()),
    }
}

/// The bytes a cassette body stands for (the inverse of [`body_value`]).
pub fn body_bytes(body: &Value) -> Bytes {
    match body {
        Value::Null => Bytes::new(),
        Value::String(text) => Bytes::from(text.clone()),
        other => Bytes::from(other.to_string()),
    }
}

/// The first place where two JSON values differ.
///
/// Its `Debug` names the path and the kinds of value on each side;
/// [`JsonDifference::describe`] shows the values themselves, which is what
/// a request comparison needs (requests of this API carry no secret).
#[derive(Clone, PartialEq)]
pub struct JsonDifference {
    /// JSON path from the compared roots, e.g. `ipAccessList[0].source`;
    /// empty when the roots themselves differ.
    pub path: String,
    /// The value on the recorded side, `None` when absent there.
    pub recorded: Option<Value>,
    /// The value on the sent side, `None` when absent there.
    pub sent: Option<Value>,
}

impl JsonDifference {
    /// `prefix.path: recorded X, sent Y`, where an absent value reads
    /// `nothing`.
    pub fn describe(&self, prefix: &str) -> String {
        let at = join_path(prefix, &self.path);
        let show = |value: &Option<Value>| value.as_ref().map_or_else(|| "nothing".into(), short);
        format!(
            "{at}: recorded {}, sent {}",
            show(&self.recorded),
            show(&self.sent)
        )
    }
}

impl fmt::Debug for JsonDifference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = |value: &Option<Value>| match value {
            None => "nothing",
            Some(Value::Null) => "null",
            Some(Value::Bool(_)) => "a boolean",
            Some(Value::Number(_)) => "a number",
            Some(Value::String(_)) => "a string",
            Some(Value::Array(_)) => "an array",
            Some(Value::Object(_)) => "an object",
        };
        f.debug_struct("JsonDifference")
            .field("path", &self.path)
            .field("recorded", &kind(&self.recorded))
            .field("sent", &kind(&self.sent))
            .finish()
    }
}

/// Joins a prefix and a JSON path: `("body", "name")` gives `body.name`,
/// `("body", "[0]")` gives `body[0]`.
pub fn join_path(prefix: &str, path: &str) -> String {
    match (prefix.is_empty(), path.is_empty()) {
        (true, true) => ".".to_owned(),
        (true, false) => path.to_owned(),
        (false, true) => prefix.to_owned(),
        (false, false) if path.starts_with('[') => format!("{prefix}{path}"),
        (false, false) => format!("{prefix}.{path}"),
    }
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(VALUE_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// Compares two JSON values and returns the first difference, in a stable
/// order (object keys sorted). Numbers are equal when they are the same
/// number (`1` and `1.0`); object key order never matters.
///
/// ```
/// use clickhouse_cloud_transport::replay::json_difference;
/// let recorded = serde_json::json!({"name": "a", "roles": ["admin"]});
/// let sent = serde_json::json!({"name": "b", "roles": ["admin"]});
/// let difference = json_difference(&recorded, &sent).unwrap();
/// assert_eq!(difference.describe("body"), r#"body.name: recorded "a", sent "b""#);
/// assert!(json_difference(&recorded, &recorded.clone()).is_none());
/// ```
pub fn json_difference(recorded: &Value, sent: &Value) -> Option<JsonDifference> {
    let differ = |path: String| JsonDifference {
        path,
        recorded: Some(recorded.clone()),
        sent: Some(sent.clone()),
    };
    match (recorded, sent) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            keys.into_iter().find_map(|key| {
                let here = object_key(key);
                match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) => json_difference(x, y).map(|mut d| {
                        d.path = join_path(&here, &d.path);
                        d
                    }),
                    (x, y) => Some(JsonDifference {
                        path: here,
                        recorded: x.cloned(),
                        sent: y.cloned(),
                    }),
                }
            })
        }
        (Value::Array(a), Value::Array(b)) => {
            let found = a.iter().zip(b).enumerate().find_map(|(index, (x, y))| {
                json_difference(x, y).map(|mut d| {
                    d.path = join_path(&format!("[{index}]"), &d.path);
                    d
                })
            });
            found.or_else(|| {
                (a.len() != b.len()).then(|| {
                    let index = a.len().min(b.len());
                    JsonDifference {
                        path: format!("[{index}]"),
                        recorded: a.get(index).cloned(),
                        sent: b.get(index).cloned(),
                    }
                })
            })
        }
        (Value::Number(a), Value::Number(b)) => {
            let same = a == b || matches!((a.as_f64(), b.as_f64()), (Some(x), Some(y)) if x == y);
            (!same).then(|| differ(String::new()))
        }
        (a, b) => (a != b).then(|| differ(String::new())),
    }
}

/// A key as it appears in a path: bare when it is a plain identifier,
/// quoted otherwise.
fn object_key(key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if plain {
        key.to_owned()
    } else {
        format!("[{}]", Value::String(key.to_owned()))
    }
}

/// The request a [`ReplayTransport`] was given differs from the recorded
/// one, or no recorded interaction was left.
///
/// It reaches the caller as the source of [`Error::Io`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayMismatch {
    /// The operation the client sent.
    pub operation: String,
    /// The cassette it was compared with, if one was left.
    pub cassette: Option<String>,
    /// What differs, one line each (`body.name: recorded "a", sent "b"`).
    pub differences: Vec<String>,
}

impl fmt::Display for ReplayMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.cassette {
            Some(cassette) => write!(
                f,
                "{} request differs from the recorded one ({cassette}): {}",
                self.operation,
                self.differences.join("; ")
            ),
            None => write!(
                f,
                "{} request sent, but no recorded interaction is left",
                self.operation
            ),
        }
    }
}

impl std::error::Error for ReplayMismatch {}

/// Serves recorded responses, in order, to the requests that match them.
///
/// A request that differs from the next cassette (method, path, query,
/// JSON body, or operation) fails with [`Error::Io`] whose source is a
/// [`ReplayMismatch`], and the cassette stays queued. Clones share the
/// queue, so a test can keep one to check [`ReplayTransport::remaining`].
///
/// Give the client `NoRetry` (a mismatch is an `Io` error, which retry
/// policies consider retryable) and no rate limit.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use clickhouse_cloud_transport::replay::{Cassette, ReplayTransport};
/// use clickhouse_cloud_transport::{HttpRequest, Method, Transport};
/// let cassette = Cassette::from_json(r#"{
///   "operation": "organizationGetList",
///   "request": { "method": "GET", "path": "/v1/organizations", "query": {}, "body": null },
///   "response": { "status": 200, "headers": { "content-type": "application/json" },
///                 "body": { "status": 200, "result": [] } }
/// }"#).unwrap();
/// let replay = ReplayTransport::new([cassette]);
/// let wrong = HttpRequest::new("organizationGetList", Method::Get, "/v1/organization");
/// let error = replay.send(wrong).await.unwrap_err();
/// assert!(error.to_string().contains(r#"path: recorded "/v1/organizations", sent "/v1/organization""#));
/// let right = HttpRequest::new("organizationGetList", Method::Get, "/v1/organizations");
/// assert_eq!(replay.send(right).await.unwrap().status.as_u16(), 200);
/// assert_eq!(replay.remaining(), 0);
/// # });
/// ```
#[derive(Debug, Clone, Default)]
pub struct ReplayTransport {
    state: Arc<Mutex<ReplayState>>,
}

#[derive(Debug, Default)]
struct ReplayState {
    queue: VecDeque<Cassette>,
    served: usize,
}

impl ReplayTransport {
    /// Serves `cassettes` in the order given.
    pub fn new(cassettes: impl IntoIterator<Item = Cassette>) -> Self {
        Self {
            state: Arc::new(Mutex::new(ReplayState {
                queue: cassettes.into_iter().collect(),
                served: 0,
            })),
        }
    }

    /// Serves the cassette files in the order given.
    pub fn from_files<P: AsRef<Path>>(
        paths: impl IntoIterator<Item = P>,
    ) -> Result<Self, CassetteError> {
        let cassettes = paths
            .into_iter()
            .map(Cassette::load)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::new(cassettes))
    }

    /// Appends a cassette to the queue.
    pub fn push(&self, cassette: Cassette) {
        self.lock().queue.push_back(cassette);
    }

    /// Cassettes not served yet.
    pub fn remaining(&self) -> usize {
        self.lock().queue.len()
    }

    /// Cassettes served so far.
    pub fn served(&self) -> usize {
        self.lock().served
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ReplayState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn serve(&self, request: &HttpRequest) -> Result<HttpResponse, ReplayMismatch> {
        let mut state = self.lock();
        let Some(next) = state.queue.front() else {
            return Err(ReplayMismatch {
                operation: request.operation.to_owned(),
                cassette: None,
                differences: Vec::new(),
            });
        };
        let differences = next.request_differences(request);
        if !differences.is_empty() {
            return Err(ReplayMismatch {
                operation: request.operation.to_owned(),
                cassette: Some(next.operation.clone()),
                differences,
            });
        }
        let response = next.to_response();
        state.queue.pop_front();
        state.served += 1;
        Ok(response)
    }
}

impl Transport for ReplayTransport {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, Error>> {
        let outcome = self.serve(&request).map_err(|mismatch| Error::Io {
            operation: request.operation,
            source: Box::new(mismatch),
            request_id: None,
        });
        Box::pin(async move { outcome })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Method;
    use serde_json::json;

    fn cassette(body: Value) -> Cassette {
        Cassette {
            operation: "openapiKeyCreate".into(),
            request: RecordedRequest {
                method: "POST".into(),
                path: "/v1/organizations/o/keys".into(),
                query: BTreeMap::new(),
                body,
            },
            response: RecordedResponse {
                status: 200,
                headers: BTreeMap::from([("content-type".into(), "application/json".into())]),
                body: json!({"status": 200, "result": {}}),
            },
            extra: Map::new(),
        }
    }

    fn request(body: &Value) -> HttpRequest {
        HttpRequest {
            body: Some(Bytes::from(body.to_string())),
            ..HttpRequest::new("openapiKeyCreate", Method::Post, "/v1/organizations/o/keys")
        }
    }

    #[test]
    fn body_mismatch_names_the_field() {
        let replay = ReplayTransport::new([cassette(json!({"name": "a"}))]);
        let error = replay.serve(&request(&json!({"name": "b"}))).unwrap_err();
        assert_eq!(
            error.differences,
            vec![r#"body.name: recorded "a", sent "b""#]
        );
        assert_eq!(replay.remaining(), 1);
        let response = replay.serve(&request(&json!({"name": "a"}))).unwrap();
        assert_eq!(response.status, StatusCode::OK);
        assert_eq!(replay.remaining(), 0);
        assert!(
            replay
                .serve(&request(&json!({})))
                .unwrap_err()
                .cassette
                .is_none()
        );
    }

    #[test]
    fn differences_cover_every_part() {
        let mut recorded = cassette(json!({"a": [1, 2], "b": {"c": null}}));
        recorded
            .request
            .query
            .insert("from_date".into(), QueryValue::One("x".into()));
        let mut sent = request(&json!({"a": [1.0, 2, 3], "b": {"c": null, "d e": 1}}));
        sent.method = Method::Patch;
        sent.operation = "openapiKeyUpdate";
        sent.path.push('/');
        assert_eq!(
            recorded.request_differences(&sent),
            vec![
                r#"operation: recorded "openapiKeyCreate", sent "openapiKeyUpdate""#,
                r#"method: recorded "POST", sent "PATCH""#,
                r#"path: recorded "/v1/organizations/o/keys", sent "/v1/organizations/o/keys/""#,
                r#"query.from_date: recorded "x", sent nothing"#,
                r#"body.a[2]: recorded nothing, sent 3"#,
            ]
        );
        let sent = request(&json!({"a": [1, 2], "b": {"c": null, "d e": 1}}));
        let differences = recorded.request_differences(&sent);
        assert_eq!(differences[1], r#"body.b["d e"]: recorded nothing, sent 1"#);
    }

    #[test]
    fn recordings_keep_request_ids_and_rate_limits_and_drop_the_rest() {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("content-type", "text/html"),
            ("x-amz-cf-id", "cf-1=="),
            ("x-ratelimit-remaining", "0"),
            ("set-cookie", "session=1"),
            ("date", "Thu, 01 Jan 2026 00:00:00 GMT"),
        ] {
            headers.insert(name, HeaderValue::from_static(value));
        }
        let response = HttpResponse {
            status: StatusCode::BAD_GATEWAY,
            headers,
            body: Bytes::from_static(b"<html>502</html>"),
        };
        let cassette = Cassette::from_exchange(&request(&json!({})), &response);
        let kept: Vec<&str> = cassette
            .response
            .headers
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            kept,
            ["content-type", "x-amz-cf-id", "x-ratelimit-remaining"]
        );
        assert_eq!(cassette.request_id().as_deref(), Some("cf-1=="));
        let shown = format!("{cassette:?}");
        assert!(
            !shown.contains("502</html>") && shown.contains("body_len: Some(16)"),
            "{shown}"
        );
    }

    #[test]
    fn bodies_round_trip_through_cassettes() {
        for bytes in [
            &b""[..],
            br#"{"a":1}"#,
            b"<html>502</html>",
            br#""just a string""#,
            b"null",
        ] {
            let value = body_value(bytes);
            let back = body_bytes(&value);
            if bytes == b"null" {
                assert_eq!(value, Value::String("null".into()));
            }
            assert_eq!(body_value(&back), value);
        }
        assert_eq!(body_value(b"<p>"), Value::String("<p>".into()));
    }

    #[test]
    fn cassette_text_round_trips_with_extra_fields() {
        let text = r#"{
          "operation": "organizationGetList",
          "request": {"method": "GET", "path": "/v1/organizations", "query": {"a": ["1", "2"]}, "body": null},
          "response": {"status": 502, "headers": {"content-type": "text/html"}, "body": "<html></html>"},
          "note": "hand-written"
        }"#;
        let cassette = Cassette::from_json(text).unwrap();
        assert_eq!(cassette.extra["note"], "hand-written");
        assert!(!cassette.has_json_body());
        assert_eq!(cassette.content_type(), Some("text/html"));
        let again = Cassette::from_json(&cassette.to_pretty_json()).unwrap();
        assert_eq!(again, cassette);
        let response = cassette.to_response();
        assert_eq!(response.status, StatusCode::BAD_GATEWAY);
        assert_eq!(&response.body[..], b"<html></html>");
        let error = Cassette::from_json(r#"{"operation": "x", "request": {}, "response": {}}"#)
            .unwrap_err();
        assert_eq!(error.at, "request");
    }
}
