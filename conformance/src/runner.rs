//! Replays cassettes through the client and checks what it makes of them.
//!
//! For each cassette: the response body is checked against the spec, the
//! recorded request is turned back into a typed request of its operation
//! (dispatched by `operationId` over the SDK's operation table), sent
//! through the real [`Client`] over a [`ReplayTransport`] (which refuses a
//! request that differs from the recorded one), and the client's answer is
//! compared with the recorded response: a typed result for a 2xx, the typed
//! API error (status, code, message, `requestId`) otherwise, or an
//! "unexpected body" error for an HTML page.
//!
//! A problem is a failure (the client, or a recording that breaks the spec
//! in a way no newer server explains) or drift (the recording holds what a
//! server ahead of the pinned spec sends: a value an `enum` lacks, a field a
//! closed schema lacks). Drift that a cassette declares in
//! `schemaDeviations` is expected and passes.

use std::fmt;
use std::path::{Path, PathBuf};

use clickhouse_cloud_client::{Client, Error};
use clickhouse_cloud_transport::record::RecordingTransport;
use clickhouse_cloud_transport::replay::{
    Cassette, JsonDifference, ReplayMismatch, body_bytes, join_path,
};
use clickhouse_cloud_transport::{NoRetry, ReplayTransport, StatusCode, safe_decode_message};
use clickhouse_cloud_types::operation::{Operation, OperationVisitor, decode_path};
use clickhouse_cloud_types::{ErrorBody, Request, ops};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tokio::runtime::Runtime;

use crate::spec::{Spec, ViolationKind};

/// Extra cassette field: JSON paths in the response body where it is known
/// not to match the spec (a newer server's enum values, for instance).
pub const SCHEMA_DEVIATIONS: &str = "schemaDeviations";

/// One problem found in one cassette.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The cassette, relative to the folder that was run.
    pub file: String,
    /// JSON path of the problem in the cassette (`response.body.result[0].createdAt`).
    pub path: String,
    /// What is wrong there.
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.file, self.path, self.message)
    }
}

/// What the client made of a cassette: the value snapshots record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// The `operationId`.
    pub operation: String,
    /// The request as the client encoded it from the typed path, query and
    /// body: `method`, `path`, `query` and `body` (equal to the recorded
    /// one, or the replay fails).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<Value>,
    /// The HTTP status.
    pub status: u16,
    /// The typed result, re-serialized (2xx only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// The typed error (non-2xx only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorOutcome>,
}

/// The client's error for a non-2xx cassette.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ErrorOutcome {
    /// `Error::Api`: the service's JSON error.
    #[serde(rename_all = "camelCase")]
    Api {
        /// HTTP status.
        status: u16,
        /// `BAD_REQUEST`, `UNAUTHORIZED`, ...
        code: Option<String>,
        /// The text after the code.
        message: String,
        /// The service's request ID.
        request_id: Option<String>,
    },
    /// `Error::Transport` with `UnexpectedBody`: a page that is not JSON.
    #[serde(rename_all = "camelCase")]
    UnexpectedBody {
        /// HTTP status.
        status: u16,
        /// The `content-type` header.
        content_type: Option<String>,
        /// The start of the body.
        excerpt: String,
        /// The request ID of the page's headers (a CDN's).
        #[serde(skip_serializing_if = "Option::is_none")]
        request_id: Option<String>,
    },
}

/// Everything found about one cassette.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The cassette, relative to the folder that was run.
    pub file: String,
    /// What the client made of it, when replay got that far.
    pub outcome: Option<Outcome>,
    /// What is wrong: with the client, or with the recording.
    pub failures: Vec<Failure>,
    /// Where the recording is ahead of the pinned spec (not declared in
    /// `schemaDeviations`): the client coped, the pin is behind.
    pub drift: Vec<Failure>,
    /// Remarks for verbose output (skipped checks, declared deviations).
    pub notes: Vec<String>,
}

impl Report {
    /// No failures and no drift.
    pub fn passed(&self) -> bool {
        self.failures.is_empty() && self.drift.is_empty()
    }

    /// At least one failure.
    pub fn failed(&self) -> bool {
        !self.failures.is_empty()
    }

    /// No failure, but drift.
    pub fn drifted(&self) -> bool {
        self.failures.is_empty() && !self.drift.is_empty()
    }

    fn fail(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.failures.push(Failure {
            file: self.file.clone(),
            path: path.into(),
            message: message.into(),
        });
    }

    fn drifted_at(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.drift.push(Failure {
            file: self.file.clone(),
            path: path.into(),
            message: message.into(),
        });
    }
}

/// The reports of a whole run.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// One per cassette, in file order.
    pub reports: Vec<Report>,
}

impl Summary {
    /// Cassettes without failures or drift.
    pub fn passed(&self) -> usize {
        self.reports.iter().filter(|r| r.passed()).count()
    }

    /// Cassettes with at least one failure.
    pub fn failed(&self) -> usize {
        self.reports.iter().filter(|r| r.failed()).count()
    }

    /// Cassettes without failures but with drift.
    pub fn drifted(&self) -> usize {
        self.reports.iter().filter(|r| r.drifted()).count()
    }

    /// Every failure, in file order.
    pub fn failures(&self) -> impl Iterator<Item = &Failure> {
        self.reports.iter().flat_map(|r| r.failures.iter())
    }

    /// Every drift, in file order.
    pub fn drift(&self) -> impl Iterator<Item = &Failure> {
        self.reports.iter().flat_map(|r| r.drift.iter())
    }

    /// The closing line: `N passed, M failed, D drifted`.
    pub fn closing_line(&self) -> String {
        format!(
            "{} passed, {} failed, {} drifted",
            self.passed(),
            self.failed(),
            self.drifted()
        )
    }
}

/// Replays cassettes; holds the runtime the client runs on and the spec.
#[derive(Debug)]
pub struct Runner {
    runtime: Runtime,
    spec: Option<Spec>,
}

impl Runner {
    /// A runner that also validates bodies against `spec` (`None` skips
    /// spec validation, for snapshot tests).
    pub fn new(spec: Option<Spec>) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(Self { runtime, spec })
    }

    /// Checks every `*.json` file under `dir`.
    pub fn run_dir(&self, dir: &Path) -> std::io::Result<Summary> {
        let files = cassette_files(dir)?;
        Ok(Summary {
            reports: files
                .iter()
                .map(|file| self.check_file(dir, file))
                .collect(),
        })
    }

    /// Checks one cassette file; `dir` only shortens the name in reports.
    pub fn check_file(&self, dir: &Path, file: &Path) -> Report {
        let label = relative_label(dir, file);
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(error) => {
                let mut report = Report {
                    file: label,
                    ..Report::default()
                };
                report.fail(".", format!("unreadable: {error}"));
                return report;
            }
        };
        self.check_text(&label, &text)
    }

    /// Checks a cassette given as JSON text, reported under `label`.
    pub fn check_text(&self, label: &str, text: &str) -> Report {
        match Cassette::from_json(text) {
            Ok(cassette) => self.check(label, &cassette),
            Err(error) => {
                let mut report = Report {
                    file: label.to_owned(),
                    ..Report::default()
                };
                report.fail(error.at, format!("not a cassette: {}", error.message));
                report
            }
        }
    }

    /// Checks one cassette: spec validation, then replay.
    pub fn check(&self, label: &str, cassette: &Cassette) -> Report {
        let mut report = Report {
            file: label.to_owned(),
            ..Report::default()
        };
        if let Some(spec) = &self.spec {
            check_spec(spec, cassette, &mut report);
        }
        let mut dispatch = Dispatch {
            cassette,
            runtime: &self.runtime,
            found: None,
        };
        ops::visit_all(&mut dispatch);
        match dispatch.found {
            None => report.fail(
                "operation",
                format!(
                    "unsupported operation {:?}: the SDK declares no such operation",
                    cassette.operation
                ),
            ),
            Some(Ok(outcome)) => report.outcome = Some(outcome),
            Some(Err(problems)) => {
                for (path, message) in problems {
                    report.fail(path, message);
                }
            }
        }
        report
    }
}

/// Every `*.json` file under `dir`, recursively, sorted.
pub fn cassette_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder)? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "json") {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// `file` relative to `dir`, with `/` separators.
pub fn relative_label(dir: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(dir).unwrap_or(file);
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn check_spec(spec: &Spec, cassette: &Cassette, report: &mut Report) {
    if !cassette.has_json_body() {
        report.notes.push(format!(
            "spec validation skipped: the response body is not JSON ({})",
            cassette.content_type().unwrap_or("no content-type")
        ));
        return;
    }
    let declared: Vec<String> = match cassette.extra.get(SCHEMA_DEVIATIONS) {
        None => Vec::new(),
        Some(value) => match serde_json::from_value(value.clone()) {
            Ok(paths) => paths,
            Err(error) => {
                report.fail(
                    SCHEMA_DEVIATIONS,
                    format!("expected a list of JSON paths: {error}"),
                );
                Vec::new()
            }
        },
    };
    let violations = match spec.validate(
        &cassette.operation,
        cassette.response.status,
        &cassette.response.body,
    ) {
        Ok(violations) => violations,
        Err(error) => {
            report.fail("operation", error.0);
            return;
        }
    };
    let mut seen = Vec::new();
    for violation in violations {
        if declared.contains(&violation.path) {
            seen.push(violation.path);
            continue;
        }
        let path = if violation.path == "." {
            ""
        } else {
            &violation.path
        };
        let at = join_path("response.body", path);
        let message = format!("{} (spec schema)", violation.message);
        match violation.kind {
            ViolationKind::Drift => report.drifted_at(at, message),
            ViolationKind::Mismatch => report.fail(at, message),
        }
    }
    for path in &declared {
        if !seen.contains(path) {
            report.fail(
                SCHEMA_DEVIATIONS,
                format!(
                    "declared deviation at {path} does not occur: the body matches the spec there"
                ),
            );
        }
    }
    if !declared.is_empty() {
        report.notes.push(format!(
            "spec deviations declared and found: {}",
            declared.join(", ")
        ));
    }
}

type Problems = Vec<(String, String)>;

/// Finds the cassette's operation in the SDK's table and replays it.
struct Dispatch<'a> {
    cassette: &'a Cassette,
    runtime: &'a Runtime,
    found: Option<Result<Outcome, Problems>>,
}

impl OperationVisitor for Dispatch<'_> {
    fn visit<O: Operation>(&mut self) {
        if self.found.is_none() && O::ID == self.cassette.operation {
            self.found = Some(replay::<O>(self.cassette, self.runtime));
        }
    }
}

/// Decodes `value` into `T`, naming the JSON path of a problem under
/// `prefix`. An empty object also tries `null`, which is how "no
/// parameters" (`()`) reads.
fn decode<T: DeserializeOwned>(prefix: &str, value: Value) -> Result<T, (String, String)> {
    let empty = value.as_object().is_some_and(Map::is_empty);
    if let Some(decoded) = empty
        .then(|| serde_json::from_value::<T>(Value::Null).ok())
        .flatten()
    {
        return Ok(decoded);
    }
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let path = if path == "." { String::new() } else { path };
        (join_path(prefix, &path), error.into_inner().to_string())
    })
}

fn difference_problem(
    prefix: &str,
    difference: &JsonDifference,
    sent_word: &str,
) -> (String, String) {
    let show = |value: &Option<Value>| {
        value
            .as_ref()
            .map_or_else(|| "nothing".to_owned(), Value::to_string)
    };
    (
        join_path(prefix, &difference.path),
        format!(
            "recorded {}, {sent_word} {}",
            show(&difference.recorded),
            show(&difference.sent)
        ),
    )
}

/// Replays one cassette as operation `O`.
fn replay<O: Operation>(cassette: &Cassette, runtime: &Runtime) -> Result<Outcome, Problems> {
    let recorded = &cassette.request;
    let mut problems = Problems::new();
    if !recorded.method.eq_ignore_ascii_case(O::METHOD.as_str()) {
        problems.push((
            "request.method".into(),
            format!(
                "recorded {}, but {} is {}",
                recorded.method,
                O::ID,
                O::METHOD
            ),
        ));
    }
    let path = match decode_path::<O::Path>(O::PATH, &recorded.path) {
        Some(Ok(path)) => Ok(path),
        Some(Err(error)) => Err(("request.path".into(), safe_decode_message(&error))),
        None => Err((
            "request.path".into(),
            format!("{:?} does not match {}", recorded.path, O::PATH),
        )),
    };
    let query_value = Value::Object(
        recorded
            .query
            .iter()
            .map(|(name, value)| {
                let values = value.values();
                let json = match values.as_slice() {
                    [one] => Value::String((*one).to_owned()),
                    many => Value::Array(
                        many.iter()
                            .map(|v| Value::String((*v).to_owned()))
                            .collect(),
                    ),
                };
                (name.clone(), json)
            })
            .collect(),
    );
    // A query is text on the wire: a parameter the type wants as a number
    // or a flag (`limit=100`) is read from its text when the text alone
    // does not decode.
    let query = decode::<O::Query>("request.query", query_value.clone()).or_else(|first| {
        decode::<O::Query>("request.query", typed_scalars(query_value)).map_err(|_| first)
    });
    let body = decode::<O::Body>("request.body", recorded.body.clone()).and_then(|body| {
        let again = serde_json::to_value(&body).map_err(|e| {
            (
                "request.body".to_owned(),
                format!("does not re-encode: {e}"),
            )
        })?;
        match clickhouse_cloud_transport::replay::json_difference(&recorded.body, &again) {
            None => Ok(body),
            Some(difference) => Err(difference_problem(
                "request.body",
                &difference,
                "re-encoded",
            )),
        }
    });
    let (path, query, body) = match (path, query, body) {
        (Ok(path), Ok(query), Ok(body)) if problems.is_empty() => (path, query, body),
        (path, query, body) => {
            problems.extend(path.err());
            problems.extend(query.err());
            problems.extend(body.err());
            return Err(problems);
        }
    };

    let transport = ReplayTransport::new([cassette.clone()]);
    let sent = RecordingTransport::new(transport.clone());
    let client = Client::builder()
        .transport(sent.clone())
        .retry_policy(NoRetry)
        .rate_limit(None)
        .total_timeout(None)
        .build()
        .map_err(|e| vec![(".".to_owned(), format!("client does not build: {e}"))])?;
    let request = Request::<O> { path, query, body };
    let answer = runtime.block_on(client.send(request));
    let mismatch = match &answer {
        Err(Error::Transport { source, .. }) => replay_mismatch(source),
        _ => None,
    };
    if let Some(mismatch) = mismatch {
        return Err(mismatch
            .differences
            .iter()
            .map(|difference| match difference.split_once(": ") {
                Some((at, what)) => (join_path("request", at), what.to_owned()),
                None => ("request".to_owned(), difference.clone()),
            })
            .collect());
    }
    if transport.remaining() != 0 {
        problems.push(("request".into(), "the client sent no request".into()));
    }
    let status = cassette.response.status;
    let mut outcome = Outcome {
        operation: O::ID.to_owned(),
        request: sent
            .take()
            .first()
            .and_then(|exchange| serde_json::to_value(&exchange.request).ok()),
        status,
        result: None,
        error: None,
    };
    let success = (200..300).contains(&status);
    match answer {
        Ok(response) if success => {
            let recorded_id = recorded_request_id(cassette);
            if let Some(recorded_id) =
                recorded_id.filter(|id| response.request_id() != Some(id.as_str()))
            {
                problems.push((
                    "response.body.requestId".into(),
                    format!(
                        "recorded {recorded_id:?}, the client reports {:?}",
                        response.request_id()
                    ),
                ));
            }
            match serde_json::to_value(response.into_result()) {
                Ok(value) => outcome.result = Some(value),
                Err(e) => problems.push((
                    "response.body.result".into(),
                    format!("does not re-encode: {e}"),
                )),
            }
        }
        Ok(_) => problems.push((
            "response.status".into(),
            format!("recorded {status}, but the client returned a result"),
        )),
        Err(Error::Decode { path, message, .. }) => {
            let path = if path == "." { String::new() } else { path };
            problems.push((join_path("response.body", &path), message));
        }
        Err(error) if success => problems.push((
            "response".into(),
            format!("recorded {status}, but the client failed: {error}"),
        )),
        Err(error) => match expected_error(cassette, &error) {
            Ok(error) => outcome.error = Some(error),
            Err(mut found) => problems.append(&mut found),
        },
    }
    if problems.is_empty() {
        Ok(outcome)
    } else {
        Err(problems)
    }
}

fn replay_mismatch(error: &clickhouse_cloud_transport::Error) -> Option<&ReplayMismatch> {
    match error {
        clickhouse_cloud_transport::Error::Io { source, .. } => source.downcast_ref(),
        _ => None,
    }
}

fn recorded_request_id(cassette: &Cassette) -> Option<String> {
    cassette.request_id()
}

/// Compares the client's error for a non-2xx cassette with what the
/// recorded body says it must be.
fn expected_error(cassette: &Cassette, error: &Error) -> Result<ErrorOutcome, Problems> {
    let status = cassette.response.status;
    let body = &cassette.response.body;
    let mut problems = Problems::new();
    let json_error = matches!(body, Value::Null | Value::Object(_));
    match error {
        Error::Api { error, .. } if json_error => {
            let parsed = ErrorBody::parse(&body_bytes(body)).unwrap_or_default();
            let code = parsed.code().map(str::to_owned);
            let message = match (parsed.message(), &code) {
                (Some(message), _) => message.to_owned(),
                (None, Some(_)) => String::new(),
                (None, None) => StatusCode::from_u16(status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or_default()
                    .to_owned(),
            };
            let request_id = recorded_request_id(cassette);
            if error.status.as_u16() != status {
                problems.push((
                    "response.status".into(),
                    format!("recorded {status}, the client reports {}", error.status),
                ));
            }
            if error.code != code {
                problems.push((
                    "response.body.error".into(),
                    format!(
                        "code: recorded {code:?}, the client reports {:?}",
                        error.code
                    ),
                ));
            }
            if error.message != message {
                problems.push((
                    "response.body.error".into(),
                    format!(
                        "message: recorded {message:?}, the client reports {:?}",
                        error.message
                    ),
                ));
            }
            if error.request_id != request_id {
                problems.push((
                    "response.body.requestId".into(),
                    format!(
                        "recorded {request_id:?}, the client reports {:?}",
                        error.request_id
                    ),
                ));
            }
            if problems.is_empty() {
                Ok(ErrorOutcome::Api {
                    status,
                    code,
                    message,
                    request_id,
                })
            } else {
                Err(problems)
            }
        }
        Error::Transport {
            source:
                clickhouse_cloud_transport::Error::UnexpectedBody {
                    status: seen,
                    content_type,
                    excerpt,
                    request_id,
                },
            ..
        } if !json_error => {
            if seen.as_u16() != status {
                problems.push((
                    "response.status".into(),
                    format!("recorded {status}, the client reports {seen}"),
                ));
            }
            let recorded_id = recorded_request_id(cassette);
            if *request_id != recorded_id {
                problems.push((
                    "response.headers".into(),
                    format!(
                        "request ID: recorded {recorded_id:?}, the client reports {request_id:?}"
                    ),
                ));
            }
            if !problems.is_empty() {
                return Err(problems);
            }
            Ok(ErrorOutcome::UnexpectedBody {
                status,
                content_type: content_type.clone(),
                excerpt: excerpt.clone(),
                request_id: request_id.clone(),
            })
        }
        other => {
            let expected = if json_error {
                "an API error"
            } else {
                "an unexpected-body error"
            };
            Err(vec![(
                "response".into(),
                format!("recorded {status}: expected {expected}, the client reports: {other}"),
            )])
        }
    }
}

/// `value` with every string that reads as an integer or a flag turned into
/// one, arrays and objects walked.
fn typed_scalars(value: Value) -> Value {
    match value {
        Value::String(text) => match (text.parse::<i64>(), text.as_str()) {
            (Ok(number), _) => Value::from(number),
            (_, "true") => Value::Bool(true),
            (_, "false") => Value::Bool(false),
            _ => Value::String(text),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(typed_scalars).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(name, value)| (name, typed_scalars(value)))
                .collect(),
        ),
        other => other,
    }
}
