//! Fault injection: which request gets which fault ([`FaultPlan`]), the
//! `--faults` notation ([`notation`]), the middleware that makes faults
//! happen ([`injector`]) and the bodies that break mid-way ([`broken`]).

mod broken;
mod injector;
mod notation;

use std::fmt;
use std::time::Duration;

use axum::http::Method;

pub(crate) use injector::{Injector, inject};
use notation::DisplayDuration;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
