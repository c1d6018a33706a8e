//! Fault injection: which request gets which fault ([`FaultPlan`]), the
//! `--faults` text format, and the middleware that makes faults happen.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use clickhouse_cloud_types::operation::{Operation, OperationVisitor, match_path};
use http_body::{Frame, SizeHint};
use tokio::time::Sleep;
use uuid::Uuid;

use crate::RateLimit;
use crate::api::{MAX_BODY, error_response, seconds};
use crate::error::ApiError;

/// How long a cut-off body waits, after its first bytes, before the
/// connection is closed (so the bytes reach the client first).
const CUT_OFF_PAUSE: Duration = Duration::from_millis(50);

/// Something that can go wrong with one request.
///
/// Faults that answer in the server's place (`TooManyRequests`,
/// `BareTooManyRequests`, `Status`, `HtmlGateway`) and `ResetBeforeActing`
/// happen before authentication and rate limiting: the request is not
/// executed and not counted against the key's rate limit. `Slow`,
/// `CutOffBody` and `ResetAfterActing` happen after the request was executed:
/// its effects (a created key, say) are there even though the client may
/// never see the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// `429` with the JSON error envelope (`TOO_MANY_REQUESTS: ...`) and
    /// `X-RateLimit-Limit`, `X-RateLimit-Remaining: 0` and
    /// `X-RateLimit-Policy` for the configured window. With `Some(wait)`,
    /// also `Retry-After` (whole seconds, rounded up: 0 stays 0) and
    /// `X-RateLimit-Reset` (`wait` in seconds); with `None`, neither.
    TooManyRequests {
        /// What `Retry-After` announces, if anything.
        retry_after: Option<Duration>,
    },
    /// `429` with the body exactly `{"error":"TOO_MANY_REQUESTS"}`: no
    /// status, no request ID, no rate-limit headers.
    BareTooManyRequests,
    /// The JSON error envelope with this status (500: `INTERNAL_ERROR: ...`,
    /// 503: `SERVICE_UNAVAILABLE: ...`). An invalid status becomes 500.
    Status(u16),
    /// This status (typically 502 or 504) with a small `text/html` page and
    /// the CDN's own request ID in `x-amz-cf-id`, as a CDN or load balancer
    /// in front of the API sends. An invalid status becomes 502.
    HtmlGateway(u16),
    /// The request is executed at once, then the response is held back this
    /// long: a client timeout shorter than this fires after the server acted.
    Slow(Duration),
    /// The request is executed, then the response head goes out with a
    /// `Content-Length` and only half of the body before the connection is
    /// closed.
    CutOffBody,
    /// The connection is closed without a response, and the request is not
    /// executed.
    ResetBeforeActing,
    /// The request is executed (its effects stay), then the connection is
    /// closed without a response.
    ResetAfterActing,
}

impl Fault {
    /// Whether the server executes the request when this fault hits it.
    pub fn executes_request(&self) -> bool {
        matches!(
            self,
            Fault::Slow(_) | Fault::CutOffBody | Fault::ResetAfterActing
        )
    }
}

impl fmt::Display for Fault {
    /// The fault in the `--faults` notation (see [`FaultPlan`]'s `FromStr`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::TooManyRequests { retry_after: None } => f.write_str("429"),
            Fault::TooManyRequests {
                retry_after: Some(wait),
            } => write!(f, "429@{}", DisplayDuration(*wait)),
            Fault::BareTooManyRequests => f.write_str("429-bare"),
            Fault::Status(code @ (429 | 502 | 504)) => write!(f, "json-{code}"),
            Fault::Status(code) if (400..=599).contains(code) => write!(f, "{code}"),
            Fault::Status(code) => write!(f, "json-{code}"),
            Fault::HtmlGateway(code @ (502 | 504)) => write!(f, "{code}"),
            Fault::HtmlGateway(code) => write!(f, "html-{code}"),
            Fault::Slow(wait) => write!(f, "slow@{}", DisplayDuration(*wait)),
            Fault::CutOffBody => f.write_str("cut-off"),
            Fault::ResetBeforeActing => f.write_str("reset-before"),
            Fault::ResetAfterActing => f.write_str("reset-after"),
        }
    }
}

/// A duration as `--faults` writes it: `2s`, `250ms`, `1.5s`.
struct DisplayDuration(Duration);

impl fmt::Display for DisplayDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let wait = self.0;
        if wait.subsec_nanos() == 0 {
            write!(f, "{}s", wait.as_secs())
        } else if wait.subsec_nanos() % 1_000_000 == 0 {
            write!(f, "{}ms", wait.as_millis())
        } else {
            write!(f, "{}s", wait.as_secs_f64())
        }
    }
}

impl FromStr for Fault {
    type Err = FaultSpecError;

    /// One fault in the `--faults` notation: `429`, `429@2s`, `429-bare`,
    /// `500`, `503`, `502`, `504`, `json-NNN`, `html-NNN`, `slow@DURATION`,
    /// `cut-off`, `reset-before`, `reset-after`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let lower = text.to_ascii_lowercase();
        let fault = match lower.as_str() {
            "429" => Fault::TooManyRequests { retry_after: None },
            "429-bare" => Fault::BareTooManyRequests,
            "cut-off" | "cut" => Fault::CutOffBody,
            "reset-before" => Fault::ResetBeforeActing,
            "reset-after" => Fault::ResetAfterActing,
            other => {
                if let Some(wait) = other.strip_prefix("429@") {
                    Fault::TooManyRequests {
                        retry_after: Some(parse_duration(wait)?),
                    }
                } else if let Some(wait) = other.strip_prefix("slow@") {
                    Fault::Slow(parse_duration(wait)?)
                } else if let Some(code) = other.strip_prefix("json-") {
                    Fault::Status(parse_status(code)?)
                } else if let Some(code) = other.strip_prefix("html-") {
                    Fault::HtmlGateway(parse_status(code)?)
                } else if other.bytes().all(|byte| byte.is_ascii_digit()) && !other.is_empty() {
                    match parse_status(other)? {
                        code @ (502 | 504) => Fault::HtmlGateway(code),
                        code => Fault::Status(code),
                    }
                } else {
                    return Err(FaultSpecError::new(format_args!(
                        "unknown fault {text:?} (expected 429, 429@DURATION, 429-bare, 500, \
                         503, 502, 504, json-NNN, html-NNN, slow@DURATION, cut-off, \
                         reset-before or reset-after)"
                    )));
                }
            }
        };
        Ok(fault)
    }
}

/// A status for a fault: 400 to 599.
fn parse_status(text: &str) -> Result<u16, FaultSpecError> {
    text.parse::<u16>()
        .ok()
        .filter(|code| (400..=599).contains(code))
        .ok_or_else(|| {
            FaultSpecError::new(format_args!(
                "{text:?} is not an HTTP error status (400 to 599)"
            ))
        })
}

/// `2`, `2s`, `1.5s`, `250ms`.
fn parse_duration(text: &str) -> Result<Duration, FaultSpecError> {
    let bad = || {
        FaultSpecError::new(format_args!(
            "{text:?} is not a duration (e.g. 2, 2s, 1.5s or 250ms)"
        ))
    };
    let (number, scale) = if let Some(millis) = text.strip_suffix("ms") {
        (millis, 1e-3)
    } else if let Some(secs) = text.strip_suffix('s') {
        (secs, 1.0)
    } else {
        (text, 1.0)
    };
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(bad());
    }
    let value: f64 = number.parse().map_err(|_| bad())?;
    Duration::try_from_secs_f64(value * scale).map_err(|_| bad())
}

/// A `--faults` specification (or one fault in it) that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultSpecError {
    message: String,
}

impl FaultSpecError {
    fn new(message: impl fmt::Display) -> Self {
        Self {
            message: message.to_string(),
        }
    }
}

impl fmt::Display for FaultSpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FaultSpecError {}

/// Which requests a scripted rule counts.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Selector {
    Every,
    Operation(String),
    Method(Method),
}

/// "The `nth` request that `selector` counts gets `fault`."
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    selector: Selector,
    nth: u64,
    fault: Fault,
}

/// Faults drawn at random.
#[derive(Debug, Clone, PartialEq)]
struct RandomFaults {
    seed: u64,
    rate: f64,
    faults: Vec<Fault>,
}

/// Which requests get which faults.
///
/// Requests are numbered from 1 in the order the server receives them,
/// counting from when the plan was installed (at start, or by
/// [`RunningEmulator::set_faults`](crate::RunningEmulator::set_faults)).
/// Scripted rules ([`on_request`](Self::on_request),
/// [`on_operation`](Self::on_operation), [`on_method`](Self::on_method))
/// fire once each, the first added winning when several match one request;
/// a request no rule picks may get a random fault
/// ([`random`](Self::random)). The default plan injects nothing.
///
/// # The `--faults` text format
///
/// A comma-separated list of items, parsed by `FromStr`:
///
/// - `N:FAULT`: the Nth request (N ≥ 1) gets FAULT;
/// - `OPERATION#N:FAULT`: the Nth request of an `operationId` (e.g.
///   `openapiKeyCreate#1:reset-after`);
/// - `METHOD#N:FAULT`: the Nth request with an upper-case HTTP method (e.g.
///   `POST#2:503`);
/// - `seed=U64`, `rate=R` (0 to 1) and `kinds=FAULT|FAULT|...`: random
///   faults (`rate` and `kinds` are required together; `seed` defaults to 0);
/// - `off` (alone): no faults.
///
/// FAULT is one of `429` (no `Retry-After`), `429@DURATION` (with it),
/// `429-bare`, `500`, `503` (or any `NNN` from 400 to 599: JSON envelope),
/// `502`, `504` (HTML page), `json-NNN`, `html-NNN`, `slow@DURATION`,
/// `cut-off`, `reset-before`, `reset-after`; DURATION is `2`, `2s`, `1.5s` or
/// `250ms`.
///
/// ```
/// use clickhouse_cloud_emulator::{Fault, FaultPlan};
///
/// let random: FaultPlan = "seed=7,rate=0.2,kinds=429|503|502|reset-after".parse()?;
/// let scripted: FaultPlan = "1:503,3:reset-before,openapiKeyCreate#1:reset-after".parse()?;
/// assert_eq!(
///     scripted,
///     FaultPlan::new()
///         .on_request(1, Fault::Status(503))
///         .on_request(3, Fault::ResetBeforeActing)
///         .on_operation("openapiKeyCreate", 1, Fault::ResetAfterActing),
/// );
/// # let _ = random;
/// # Ok::<(), clickhouse_cloud_emulator::FaultSpecError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultPlan {
    rules: Vec<Rule>,
    random: Option<RandomFaults>,
}

impl FaultPlan {
    /// A plan that injects nothing (add rules with the `on_*` methods).
    pub fn new() -> Self {
        Self::default()
    }

    /// The `n`th request (1-based, every request counted) gets `fault`;
    /// `n = 0` never fires.
    pub fn on_request(self, n: u64, fault: Fault) -> Self {
        self.rule(Selector::Every, n, fault)
    }

    /// The `n`th request of operation `operation_id` (the spec's
    /// `operationId`, e.g. `openapiKeyCreate`) gets `fault`; `n = 0` or an
    /// unknown operation never fires.
    pub fn on_operation(self, operation_id: impl Into<String>, n: u64, fault: Fault) -> Self {
        self.rule(Selector::Operation(operation_id.into()), n, fault)
    }

    /// The `n`th request with HTTP method `method` (an `http::Method`, the
    /// same type as `reqwest::Method`) gets `fault`; `n = 0` never fires.
    pub fn on_method(self, method: Method, n: u64, fault: Fault) -> Self {
        self.rule(Selector::Method(method), n, fault)
    }

    /// Every request gets, with probability `rate` (clamped to 0..=1), one of
    /// `faults`, both drawn from `fastrand`'s PRNG seeded with `seed` and
    /// the request's number: the same seed and request order give the same
    /// faults.
    /// Replaces earlier random settings; scripted rules keep precedence.
    pub fn random(seed: u64, rate: f64, faults: impl IntoIterator<Item = Fault>) -> Self {
        Self::new().with_random(seed, rate, faults)
    }

    /// [`random`](Self::random) on an existing plan.
    pub fn with_random(
        mut self,
        seed: u64,
        rate: f64,
        faults: impl IntoIterator<Item = Fault>,
    ) -> Self {
        let rate = if rate.is_nan() {
            0.0
        } else {
            rate.clamp(0.0, 1.0)
        };
        self.random = Some(RandomFaults {
            seed,
            rate,
            faults: faults.into_iter().collect(),
        });
        self
    }

    /// Whether the plan can never inject a fault.
    pub fn is_empty(&self) -> bool {
        self.rules.iter().all(|rule| rule.nth == 0)
            && self
                .random
                .as_ref()
                .is_none_or(|random| random.rate <= 0.0 || random.faults.is_empty())
    }

    fn rule(mut self, selector: Selector, nth: u64, fault: Fault) -> Self {
        self.rules.push(Rule {
            selector,
            nth,
            fault,
        });
        self
    }

    /// The random fault, if any, for request number `request`.
    fn draw(&self, request: u64) -> Option<Fault> {
        let random = self.random.as_ref()?;
        if random.faults.is_empty() {
            return None;
        }
        // One stream per request number, so the outcome of a request
        // depends on the seed and its number only, not on what ran before.
        let mut rng =
            fastrand::Rng::with_seed(random.seed ^ request.wrapping_mul(0xD1B5_4A32_D192_ED03));
        if rng.f64() >= random.rate {
            return None;
        }
        random.faults.get(rng.usize(..random.faults.len())).cloned()
    }
}

impl FromStr for FaultPlan {
    type Err = FaultSpecError;

    /// Parses the `--faults` format described on [`FaultPlan`].
    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let spec = spec.trim();
        if spec.eq_ignore_ascii_case("off") || spec.eq_ignore_ascii_case("none") {
            return Ok(Self::new());
        }
        if spec.is_empty() {
            return Err(FaultSpecError::new(
                "empty fault spec (use `off` for no faults)",
            ));
        }
        let mut plan = Self::new();
        let (mut seed, mut rate, mut kinds) = (None, None, None);
        for item in spec.split(',').map(str::trim) {
            if item.is_empty() {
                return Err(FaultSpecError::new(format_args!(
                    "empty item in fault spec {spec:?}"
                )));
            }
            if let Some((key, value)) = item.split_once('=') {
                let value = value.trim();
                let duplicate =
                    || FaultSpecError::new(format_args!("{} is given twice", key.trim()));
                match key.trim() {
                    "seed" => {
                        let parsed = value.parse::<u64>().map_err(|_| {
                            FaultSpecError::new(format_args!(
                                "seed must be an unsigned integer, got {value:?}"
                            ))
                        })?;
                        if seed.replace(parsed).is_some() {
                            return Err(duplicate());
                        }
                    }
                    "rate" => {
                        let parsed = value
                            .parse::<f64>()
                            .ok()
                            .filter(|rate| (0.0..=1.0).contains(rate))
                            .ok_or_else(|| {
                                FaultSpecError::new(format_args!(
                                    "rate must be a number from 0 to 1, got {value:?}"
                                ))
                            })?;
                        if rate.replace(parsed).is_some() {
                            return Err(duplicate());
                        }
                    }
                    "kinds" => {
                        let parsed = value
                            .split('|')
                            .map(str::parse)
                            .collect::<Result<Vec<Fault>, _>>()?;
                        if kinds.replace(parsed).is_some() {
                            return Err(duplicate());
                        }
                    }
                    other => {
                        return Err(FaultSpecError::new(format_args!(
                            "unknown setting {other:?} (expected seed, rate or kinds)"
                        )));
                    }
                }
                continue;
            }
            let rule = parse_rule(item)?;
            plan.rules.push(rule);
        }
        match (seed, rate, kinds) {
            (None, None, None) => {}
            (seed, Some(rate), Some(kinds)) => {
                plan = plan.with_random(seed.unwrap_or(0), rate, kinds);
            }
            _ => {
                return Err(FaultSpecError::new(
                    "random faults need both rate=R and kinds=FAULT|FAULT|...",
                ));
            }
        }
        Ok(plan)
    }
}

/// `N:FAULT`, `OPERATION#N:FAULT` or `METHOD#N:FAULT`.
fn parse_rule(item: &str) -> Result<Rule, FaultSpecError> {
    let (selector, fault) = item.split_once(':').ok_or_else(|| {
        FaultSpecError::new(format_args!(
            "{item:?} is neither N:FAULT, NAME#N:FAULT nor KEY=VALUE"
        ))
    })?;
    let fault: Fault = fault.parse()?;
    let (name, nth) = match selector.trim().rsplit_once('#') {
        Some((name, nth)) => (Some(name.trim()), nth.trim()),
        None => (None, selector.trim()),
    };
    let nth = nth
        .parse::<u64>()
        .ok()
        .filter(|nth| *nth >= 1)
        .ok_or_else(|| {
            FaultSpecError::new(format_args!(
                "in {item:?}: the request number must be 1 or more, got {nth:?}"
            ))
        })?;
    let selector = match name {
        None => Selector::Every,
        Some(name) if !name.is_empty() && name.bytes().all(|b| b.is_ascii_uppercase()) => {
            const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
            if !METHODS.contains(&name) {
                return Err(FaultSpecError::new(format_args!(
                    "unknown HTTP method {name:?} (expected one of {})",
                    METHODS.join(", ")
                )));
            }
            let method = Method::from_bytes(name.as_bytes())
                .map_err(|_| FaultSpecError::new(format_args!("bad method {name:?}")))?;
            Selector::Method(method)
        }
        Some(name) => {
            if !clickhouse_cloud_types::ops::ALL_IDS.contains(&name) {
                return Err(FaultSpecError::new(format_args!(
                    "unknown operationId {name:?} (e.g. {})",
                    clickhouse_cloud_types::ops::ALL_IDS.join(", ")
                )));
            }
            Selector::Operation(name.to_owned())
        }
    };
    Ok(Rule {
        selector,
        nth,
        fault,
    })
}

/// A fault that was injected, as
/// [`RunningEmulator::fault_log`](crate::RunningEmulator::fault_log) reports
/// it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InjectedFault {
    /// The request's number under the plan (1-based, every request counted).
    pub request: u64,
    /// Its HTTP method.
    pub method: Method,
    /// Its path, without the query.
    pub path: String,
    /// Its `operationId`, when the method and path are an operation's.
    pub operation_id: Option<&'static str>,
    /// What happened to it.
    pub fault: Fault,
}

/// Method, path template and ID of every declared operation.
struct OperationTable(Vec<(&'static str, &'static str, &'static str)>);

impl OperationVisitor for OperationTable {
    fn visit<O: Operation>(&mut self) {
        self.0.push((O::METHOD.as_str(), O::PATH, O::ID));
    }
}

impl OperationTable {
    fn new() -> Self {
        let mut table = Self(Vec::new());
        clickhouse_cloud_types::ops::visit_all(&mut table);
        table
    }

    /// The operation a request is for; the most literal template wins.
    fn find(&self, method: &Method, path: &str) -> Option<&'static str> {
        self.0
            .iter()
            .filter(|(m, _, _)| *m == method.as_str())
            .filter_map(|(_, template, id)| {
                let params = match_path(template, path)?;
                Some((params.len(), *id))
            })
            .min_by_key(|(params, _)| *params)
            .map(|(_, id)| id)
    }
}

/// The plan in force and what it has counted and done so far.
struct Progress {
    plan: FaultPlan,
    requests: u64,
    per_operation: HashMap<&'static str, u64>,
    per_method: HashMap<Method, u64>,
    log: Vec<InjectedFault>,
}

impl Progress {
    fn new(plan: FaultPlan) -> Self {
        Self {
            plan,
            requests: 0,
            per_operation: HashMap::new(),
            per_method: HashMap::new(),
            log: Vec::new(),
        }
    }
}

/// The middleware's state: shared with [`crate::RunningEmulator`].
pub(crate) struct Injector {
    progress: Mutex<Progress>,
    operations: OperationTable,
    rate_limit: RateLimit,
}

impl Injector {
    pub(crate) fn new(plan: FaultPlan, rate_limit: Option<RateLimit>) -> Self {
        Self {
            progress: Mutex::new(Progress::new(plan)),
            operations: OperationTable::new(),
            rate_limit: rate_limit.unwrap_or_default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Progress> {
        self.progress.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Installs a plan and starts counting (and logging) afresh.
    pub(crate) fn set_plan(&self, plan: FaultPlan) {
        *self.lock() = Progress::new(plan);
    }

    pub(crate) fn log(&self) -> Vec<InjectedFault> {
        self.lock().log.clone()
    }

    pub(crate) fn injected(&self) -> usize {
        self.lock().log.len()
    }

    pub(crate) fn requests(&self) -> u64 {
        self.lock().requests
    }

    /// Counts a request and decides its fault.
    fn decide(&self, method: &Method, path: &str) -> Option<Fault> {
        let operation = self.operations.find(method, path);
        let mut progress = self.lock();
        let progress = &mut *progress;
        progress.requests = progress.requests.saturating_add(1);
        let request = progress.requests;
        let by_operation = operation.map(|id| {
            let count = progress.per_operation.entry(id).or_insert(0);
            *count = count.saturating_add(1);
            *count
        });
        let by_method = {
            let count = progress.per_method.entry(method.clone()).or_insert(0);
            *count = count.saturating_add(1);
            *count
        };
        let scripted = progress.plan.rules.iter().find(|rule| {
            let count = match &rule.selector {
                Selector::Every => Some(request),
                Selector::Operation(id) => by_operation.filter(|_| operation == Some(id.as_str())),
                Selector::Method(m) => (m == method).then_some(by_method),
            };
            count == Some(rule.nth)
        });
        let fault = match scripted {
            Some(rule) => rule.fault.clone(),
            None => progress.plan.draw(request)?,
        };
        progress.log.push(InjectedFault {
            request,
            method: method.clone(),
            path: path.to_owned(),
            operation_id: operation,
            fault: fault.clone(),
        });
        Some(fault)
    }

    /// The answer to a request that gets `fault` without being executed.
    fn answer(&self, fault: &Fault) -> Option<Response> {
        let response = match fault {
            Fault::TooManyRequests { retry_after } => {
                let mut response = error_response(Uuid::new_v4(), &ApiError::rate_limited(), None);
                let limit = self.rate_limit;
                let headers = response.headers_mut();
                let mut set = |name: &'static str, value: String| {
                    if let Ok(value) = HeaderValue::from_str(&value) {
                        headers.insert(HeaderName::from_static(name), value);
                    }
                };
                set("x-ratelimit-limit", limit.requests.to_string());
                set("x-ratelimit-remaining", "0".to_owned());
                set(
                    "x-ratelimit-policy",
                    format!(
                        "{};w={}",
                        limit.requests,
                        seconds(limit.window.as_secs_f64())
                    ),
                );
                if let Some(wait) = retry_after {
                    set("x-ratelimit-reset", seconds(wait.as_secs_f64()));
                    let whole = wait
                        .as_secs()
                        .saturating_add(u64::from(wait.subsec_nanos() > 0));
                    headers.insert(RETRY_AFTER, HeaderValue::from(whole));
                }
                response
            }
            Fault::BareTooManyRequests => {
                let mut response = (
                    StatusCode::TOO_MANY_REQUESTS,
                    r#"{"error":"TOO_MANY_REQUESTS"}"#,
                )
                    .into_response();
                response
                    .headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                response
            }
            Fault::Status(code) => {
                let status = StatusCode::from_u16(*code)
                    .ok()
                    .filter(|status| status.is_client_error() || status.is_server_error())
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let error = ApiError::new(status, "fault injected by the emulator");
                error_response(Uuid::new_v4(), &error, None)
            }
            Fault::HtmlGateway(code) => {
                let status = StatusCode::from_u16(*code)
                    .ok()
                    .filter(|status| status.is_client_error() || status.is_server_error())
                    .unwrap_or(StatusCode::BAD_GATEWAY);
                let title = format!(
                    "{} {}",
                    status.as_u16(),
                    status.canonical_reason().unwrap_or("Error")
                );
                let page = format!(
                    "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n\
                     <center><h1>{title}</h1></center>\r\n<hr><center>emulated-cdn</center>\r\n\
                     </body>\r\n</html>\r\n"
                );
                let mut response = (status, page).into_response();
                let headers = response.headers_mut();
                headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/html"));
                let cdn_id = format!("{}==", Uuid::new_v4().simple());
                if let Ok(value) = HeaderValue::from_str(&cdn_id) {
                    headers.insert("x-amz-cf-id", value);
                }
                response
            }
            Fault::ResetBeforeActing => reset(),
            Fault::Slow(_) | Fault::CutOffBody | Fault::ResetAfterActing => return None,
        };
        Some(response)
    }
}

/// The middleware: counts every request, and injects the fault the plan
/// gives it, if any.
pub(crate) async fn inject(
    State(injector): State<Arc<Injector>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(fault) = injector.decide(request.method(), request.uri().path()) else {
        return next.run(request).await;
    };
    if let Some(response) = injector.answer(&fault) {
        // Read the request body, unexecuted: closing a connection with
        // unread bytes would make the kernel send a reset the client may
        // see before (or instead of) the answer.
        let _ = axum::body::to_bytes(request.into_body(), MAX_BODY).await;
        return response;
    }
    let response = next.run(request).await;
    match fault {
        Fault::Slow(wait) => {
            tokio::time::sleep(wait).await;
            response
        }
        Fault::CutOffBody => cut_off(response).await,
        _ => reset(),
    }
}

/// A response whose body fails at once: hyper drops the connection before
/// the head leaves its write buffer, so the client gets no response.
fn reset() -> Response {
    Response::new(Body::new(Broken {
        first: None,
        declared: None,
        pause: None,
    }))
}

/// The response's head with a `Content-Length` for the whole body, half of
/// the body, then a closed connection.
async fn cut_off(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return reset();
    };
    let declared = bytes.len().max(1) as u64;
    let first = bytes.slice(..bytes.len() / 2);
    parts
        .headers
        .insert(CONTENT_LENGTH, HeaderValue::from(declared));
    let body = Broken {
        first: Some(first),
        declared: Some(declared),
        pause: None,
    };
    Response::from_parts(parts, Body::new(body))
}

/// A body that yields `first` (if any), pauses so it is flushed, then fails.
struct Broken {
    first: Option<Bytes>,
    declared: Option<u64>,
    pause: Option<Pin<Box<Sleep>>>,
}

impl HttpBody for Broken {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        if let Some(first) = self.first.take().filter(|first| !first.is_empty()) {
            self.pause = Some(Box::pin(tokio::time::sleep(CUT_OFF_PAUSE)));
            return Poll::Ready(Some(Ok(Frame::data(first))));
        }
        if let Some(pause) = self.pause.as_mut() {
            if pause.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
        }
        Poll::Ready(Some(Err(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "connection dropped by an injected fault",
        ))))
    }

    fn is_end_stream(&self) -> bool {
        false
    }

    fn size_hint(&self) -> SizeHint {
        match self.declared {
            Some(length) => SizeHint::with_exact(length),
            None => SizeHint::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_parse_and_print_back() {
        let cases = [
            ("429", Fault::TooManyRequests { retry_after: None }),
            (
                "429@2s",
                Fault::TooManyRequests {
                    retry_after: Some(Duration::from_secs(2)),
                },
            ),
            (
                "429@0s",
                Fault::TooManyRequests {
                    retry_after: Some(Duration::ZERO),
                },
            ),
            ("429-bare", Fault::BareTooManyRequests),
            ("500", Fault::Status(500)),
            ("503", Fault::Status(503)),
            ("502", Fault::HtmlGateway(502)),
            ("504", Fault::HtmlGateway(504)),
            ("json-502", Fault::Status(502)),
            ("html-503", Fault::HtmlGateway(503)),
            ("slow@250ms", Fault::Slow(Duration::from_millis(250))),
            ("slow@3s", Fault::Slow(Duration::from_secs(3))),
            ("cut-off", Fault::CutOffBody),
            ("reset-before", Fault::ResetBeforeActing),
            ("reset-after", Fault::ResetAfterActing),
        ];
        for (text, fault) in cases {
            assert_eq!(text.parse::<Fault>(), Ok(fault.clone()), "{text}");
            assert_eq!(fault.to_string(), text);
        }
        let aliases = [
            ("429@1.5", Duration::from_millis(1500)),
            ("429@2", Duration::from_secs(2)),
            ("429@100ms", Duration::from_millis(100)),
        ];
        for (text, wait) in aliases {
            assert_eq!(
                text.parse::<Fault>(),
                Ok(Fault::TooManyRequests {
                    retry_after: Some(wait)
                })
            );
        }
        assert_eq!("CUT".parse::<Fault>(), Ok(Fault::CutOffBody));
        for bad in [
            "",
            "42",
            "200",
            "600",
            "70000",
            "reset",
            "slow",
            "slow@",
            "slow@-1",
            "slow@x",
            "429@1e400",
            "html-",
            "json-abc",
            "429@2h",
        ] {
            let error = bad.parse::<Fault>().unwrap_err();
            assert!(!error.to_string().is_empty(), "{bad}");
        }
    }

    #[test]
    fn scripted_specs_parse() {
        let plan: FaultPlan = "1:503, 3:reset-before,openapiKeyCreate#1:reset-after,POST#2:429@1s"
            .parse()
            .unwrap();
        let expected = FaultPlan::new()
            .on_request(1, Fault::Status(503))
            .on_request(3, Fault::ResetBeforeActing)
            .on_operation("openapiKeyCreate", 1, Fault::ResetAfterActing)
            .on_method(
                Method::POST,
                2,
                Fault::TooManyRequests {
                    retry_after: Some(Duration::from_secs(1)),
                },
            );
        assert_eq!(plan, expected);
        assert!("off".parse::<FaultPlan>().unwrap().is_empty());
        assert!("NONE".parse::<FaultPlan>().unwrap().is_empty());
    }

    #[test]
    fn random_specs_parse() {
        let plan: FaultPlan = "seed=7,rate=0.2,kinds=429|503|502|reset-after"
            .parse()
            .unwrap();
        let expected = FaultPlan::random(
            7,
            0.2,
            [
                Fault::TooManyRequests { retry_after: None },
                Fault::Status(503),
                Fault::HtmlGateway(502),
                Fault::ResetAfterActing,
            ],
        );
        assert_eq!(plan, expected);
        let mixed: FaultPlan = "rate=1,kinds=cut-off,2:500".parse().unwrap();
        assert_eq!(
            mixed,
            FaultPlan::new()
                .on_request(2, Fault::Status(500))
                .with_random(0, 1.0, [Fault::CutOffBody])
        );
    }

    #[test]
    fn bad_specs_say_why() {
        let cases = [
            ("", "empty"),
            ("1:503,", "empty item"),
            ("0:503", "1 or more"),
            ("x:503", "1 or more"),
            ("1:teapot", "unknown fault"),
            ("1", "neither"),
            ("keyCreate#1:503", "unknown operationId"),
            ("FETCH#1:503", "unknown HTTP method"),
            ("openapiKeyCreate#0:503", "1 or more"),
            ("seed=7", "need both"),
            ("rate=0.5", "need both"),
            ("rate=2,kinds=503", "from 0 to 1"),
            ("rate=NaN,kinds=503", "from 0 to 1"),
            ("seed=-1,rate=1,kinds=503", "unsigned"),
            ("rate=1,kinds=503|nope", "unknown fault"),
            ("rate=1,kinds=", "unknown fault"),
            ("rate=1,rate=1,kinds=503", "twice"),
            ("speed=1", "unknown setting"),
        ];
        for (spec, needle) in cases {
            let error = spec.parse::<FaultPlan>().unwrap_err().to_string();
            assert!(error.contains(needle), "{spec:?}: {error}");
        }
    }

    #[test]
    fn random_draws_depend_on_seed_and_request_number_only() {
        let faults = [Fault::Status(500), Fault::Status(503), Fault::CutOffBody];
        let plan = FaultPlan::random(42, 0.3, faults.clone());
        let run = |plan: &FaultPlan| (1..=2000).map(|n| plan.draw(n)).collect::<Vec<_>>();
        let first = run(&plan);
        assert_eq!(first, run(&plan.clone()));
        let hits = first.iter().flatten().count();
        assert!((450..=750).contains(&hits), "{hits}");
        for fault in &faults {
            assert!(first.iter().flatten().any(|f| f == fault));
        }
        assert_ne!(first, run(&FaultPlan::random(43, 0.3, faults.clone())));
        assert!(
            run(&FaultPlan::random(42, 0.0, faults.clone()))
                .iter()
                .all(Option::is_none)
        );
        assert!(
            run(&FaultPlan::random(42, f64::NAN, faults.clone()))
                .iter()
                .all(Option::is_none)
        );
        assert!(
            run(&FaultPlan::random(42, 5.0, faults))
                .iter()
                .all(Option::is_some)
        );
        assert!(
            run(&FaultPlan::random(42, 1.0, []))
                .iter()
                .all(Option::is_none)
        );
    }

    #[test]
    fn operations_are_found_by_method_and_path() {
        let table = OperationTable::new();
        let org = Uuid::new_v4();
        let key = Uuid::new_v4();
        let keys = format!("/v1/organizations/{org}/keys");
        assert_eq!(table.find(&Method::POST, &keys), Some("openapiKeyCreate"));
        assert_eq!(table.find(&Method::GET, &keys), Some("openapiKeyGetList"));
        assert_eq!(
            table.find(&Method::DELETE, &format!("{keys}/{key}")),
            Some("openapiKeyDelete")
        );
        assert_eq!(
            table.find(&Method::GET, "/v1/organizations"),
            Some("organizationGetList")
        );
        assert_eq!(table.find(&Method::PUT, &keys), None);
        assert_eq!(table.find(&Method::GET, "/nowhere"), None);
    }

    #[test]
    fn scripted_rules_count_their_own_requests() {
        let org = Uuid::new_v4();
        let keys = format!("/v1/organizations/{org}/keys");
        let injector = Injector::new(
            FaultPlan::new()
                .on_operation("openapiKeyCreate", 2, Fault::ResetAfterActing)
                .on_request(3, Fault::Status(503))
                .on_method(Method::GET, 3, Fault::Status(500))
                .on_request(0, Fault::CutOffBody),
            None,
        );
        let seen: Vec<Option<Fault>> = [
            (Method::GET, keys.as_str()),  // 1, GET 1
            (Method::POST, keys.as_str()), // 2, create 1
            (Method::GET, keys.as_str()),  // 3, GET 2: 3rd request
            (Method::POST, keys.as_str()), // 4, create 2
            (Method::GET, "/nowhere"),     // 5, GET 3
            (Method::GET, keys.as_str()),  // 6
        ]
        .iter()
        .map(|(method, path)| injector.decide(method, path))
        .collect();
        assert_eq!(
            seen,
            [
                None,
                None,
                Some(Fault::Status(503)),
                Some(Fault::ResetAfterActing),
                Some(Fault::Status(500)),
                None
            ]
        );
        let log = injector.log();
        assert_eq!(log.len(), 3);
        assert_eq!(log[1].request, 4);
        assert_eq!(log[1].operation_id, Some("openapiKeyCreate"));
        assert_eq!(log[2].operation_id, None);
        assert_eq!(log[2].path, "/nowhere");
        assert_eq!(injector.requests(), 6);

        injector.set_plan(FaultPlan::new().on_request(1, Fault::CutOffBody));
        assert_eq!((injector.injected(), injector.requests()), (0, 0));
        assert_eq!(injector.decide(&Method::GET, "/"), Some(Fault::CutOffBody));
    }
}
