//! When to try a request again, and how long to wait first.

use std::fmt::{self, Debug};
use std::time::Duration;

use http::StatusCode;

use crate::{Error, HttpResponse, Method};

/// One finished attempt, as a [`RetryPolicy`] sees it.
///
/// Its `Debug` shows the operation, method, the attempt's number, the
/// elapsed time and the outcome's status or error kind: never a body.
pub struct Attempt<'a> {
    /// The `operationId`.
    pub operation: &'a str,
    /// The request's method.
    pub method: &'a Method,
    /// Whether the operation may be sent again after the service may have
    /// acted ([`crate::HttpRequest::idempotent`], from the operation table).
    pub idempotent: bool,
    /// 1 for the first attempt.
    pub number: u32,
    /// Time since the call began.
    pub elapsed: Duration,
    /// What came back.
    pub outcome: Result<&'a HttpResponse, &'a Error>,
}

/// Whether a failed attempt may be sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retryable {
    /// The service certainly did not act (`429`, or no connection was made):
    /// any method may be retried.
    Always,
    /// The service may have acted (gateway errors, timeouts, broken
    /// connections): only idempotent operations may be (the operation
    /// table says which: GET, PUT, DELETE and most PATCHes, not POST, nor a
    /// PATCH that generates a new password).
    IfIdempotent,
    /// Retrying cannot help (success, client errors, `500`).
    Never,
}

impl Attempt<'_> {
    /// How this attempt's outcome may be retried.
    pub fn retryable(&self) -> Retryable {
        match self.outcome {
            Ok(response) => match response.status {
                StatusCode::TOO_MANY_REQUESTS => Retryable::Always,
                StatusCode::BAD_GATEWAY
                | StatusCode::SERVICE_UNAVAILABLE
                | StatusCode::GATEWAY_TIMEOUT => Retryable::IfIdempotent,
                _ => Retryable::Never,
            },
            Err(Error::Connect { .. }) => Retryable::Always,
            Err(Error::Timeout { .. } | Error::Io { .. }) => Retryable::IfIdempotent,
            Err(_) => Retryable::Never,
        }
    }

    /// Whether the operation may be sent twice with the effect of once
    /// (the operation table's verdict, not the method's).
    pub fn is_idempotent(&self) -> bool {
        self.idempotent
    }

    /// How long the service asked us to wait (`Retry-After`, else
    /// `X-RateLimit-Reset` once the window is spent).
    pub fn server_wait(&self) -> Option<Duration> {
        let response = self.outcome.ok()?;
        crate::headers::server_wait(response.status, &response.headers)
    }
}

impl Debug for Attempt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("Attempt");
        out.field("operation", &self.operation)
            .field("method", self.method)
            .field("idempotent", &self.idempotent)
            .field("number", &self.number)
            .field("elapsed", &self.elapsed);
        match self.outcome {
            Ok(response) => out.field("outcome", response),
            Err(error) => out.field("outcome", &error.kind()),
        };
        out.finish()
    }
}

/// What to do after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Send again after waiting this long.
    Retry {
        /// The wait.
        after: Duration,
    },
    /// Return this outcome to the caller.
    Stop,
}

/// Decides whether and when to retry. Replace the default
/// ([`ExponentialBackoff`]) to change any of it; [`NoRetry`] turns
/// retries off.
pub trait RetryPolicy: Debug + Send + Sync {
    /// Called after every attempt, successful or not.
    fn decide(&self, attempt: &Attempt<'_>) -> RetryDecision;
}

/// Never retries.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoRetry;

impl RetryPolicy for NoRetry {
    fn decide(&self, _: &Attempt<'_>) -> RetryDecision {
        RetryDecision::Stop
    }
}

/// The default policy: retry what is safe to retry (see [`Retryable`]) with
/// exponential backoff and full jitter, honouring `Retry-After`, within a
/// cap on attempts and on total time.
///
/// ```
/// use std::time::Duration;
/// use clickhouse_cloud_transport::ExponentialBackoff;
/// let policy = ExponentialBackoff { max_attempts: 3, ..ExponentialBackoff::default() };
/// assert_eq!(policy.initial_delay, Duration::from_millis(250));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ExponentialBackoff {
    /// Attempts in all, the first included (default 5).
    pub max_attempts: u32,
    /// Upper bound of the first wait (default 250 ms); doubles each time.
    pub initial_delay: Duration,
    /// Upper bound of any computed wait (default 8 s).
    pub max_delay: Duration,
    /// No retry is started once this much time has passed or would pass
    /// while waiting (default 60 s).
    pub max_elapsed: Duration,
}

impl Default for ExponentialBackoff {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
            max_elapsed: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy for ExponentialBackoff {
    fn decide(&self, attempt: &Attempt<'_>) -> RetryDecision {
        let allowed = match attempt.retryable() {
            Retryable::Always => true,
            Retryable::IfIdempotent => attempt.is_idempotent(),
            Retryable::Never => false,
        };
        if !allowed || attempt.number >= self.max_attempts {
            return RetryDecision::Stop;
        }
        let exponent = attempt.number.saturating_sub(1).min(16);
        let ceiling = self
            .initial_delay
            .saturating_mul(1 << exponent)
            .min(self.max_delay);
        let jittered = ceiling.mul_f64(fastrand::f64());
        let after = match attempt.server_wait() {
            // The service said when: wait that long, plus a little spread so
            // many waiting tasks do not return at the same instant.
            Some(wait) => wait + jittered.min(Duration::from_millis(250)) / 4,
            None => jittered,
        };
        if attempt.elapsed + after > self.max_elapsed {
            return RetryDecision::Stop;
        }
        RetryDecision::Retry { after }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderMap, HeaderValue};

    fn response(status: u16, headers: &[(&'static str, &'static str)]) -> HttpResponse {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, HeaderValue::from_static(value));
        }
        HttpResponse {
            status: StatusCode::from_u16(status).unwrap(),
            headers: map,
            body: Default::default(),
        }
    }

    fn decide(
        method: Method,
        number: u32,
        outcome: Result<&HttpResponse, &Error>,
    ) -> RetryDecision {
        ExponentialBackoff::default().decide(&Attempt {
            operation: "op",
            method: &method,
            idempotent: method.is_idempotent(),
            number,
            elapsed: Duration::ZERO,
            outcome,
        })
    }

    fn retries(decision: RetryDecision) -> bool {
        matches!(decision, RetryDecision::Retry { .. })
    }

    #[test]
    fn what_is_retried_for_which_method() {
        let connect = Error::Connect {
            url: "http://x".into(),
            source: "refused".into(),
        };
        let timeout = Error::Timeout {
            operation: "op",
            after: Duration::from_secs(1),
            request_id: None,
        };
        for (status, get, post) in [
            (200, false, false),
            (400, false, false),
            (404, false, false),
            (429, true, true),
            (500, false, false),
            (502, true, false),
            (503, true, false),
            (504, true, false),
        ] {
            let r = response(status, &[]);
            assert_eq!(retries(decide(Method::Get, 1, Ok(&r))), get, "GET {status}");
            assert_eq!(
                retries(decide(Method::Post, 1, Ok(&r))),
                post,
                "POST {status}"
            );
            assert_eq!(
                retries(decide(Method::Patch, 1, Ok(&r))),
                post,
                "PATCH {status}"
            );
        }
        assert!(retries(decide(Method::Post, 1, Err(&connect))));
        assert!(!retries(decide(Method::Post, 1, Err(&timeout))));
        assert!(retries(decide(Method::Delete, 1, Err(&timeout))));
        assert!(retries(decide(Method::Put, 1, Err(&timeout))));
    }

    #[test]
    fn the_operation_table_decides_not_the_method() {
        let r = response(503, &[]);
        let decide_with = |method: Method, idempotent: bool| {
            ExponentialBackoff::default().decide(&Attempt {
                operation: "op",
                method: &method,
                idempotent,
                number: 1,
                elapsed: Duration::ZERO,
                outcome: Ok(&r),
            })
        };
        // A PATCH that generates a new password each time: not retried.
        assert!(!retries(decide_with(Method::Patch, false)));
        // A PATCH that sets a value: retried.
        assert!(retries(decide_with(Method::Patch, true)));
        // A POST that only validates: retried.
        assert!(retries(decide_with(Method::Post, true)));
        // A 429 is retried whatever the operation.
        let r = response(429, &[]);
        let attempt = Attempt {
            operation: "op",
            method: &Method::Post,
            idempotent: false,
            number: 1,
            elapsed: Duration::ZERO,
            outcome: Ok(&r),
        };
        assert!(retries(ExponentialBackoff::default().decide(&attempt)));
    }

    #[test]
    fn attempts_are_capped() {
        let r = response(503, &[]);
        assert!(retries(decide(Method::Get, 4, Ok(&r))));
        assert!(!retries(decide(Method::Get, 5, Ok(&r))));
    }

    #[test]
    fn server_wait_is_honoured() {
        let r = response(429, &[("retry-after", "3")]);
        match decide(Method::Post, 1, Ok(&r)) {
            RetryDecision::Retry { after } => {
                assert!(after >= Duration::from_secs(3), "{after:?}");
                assert!(after <= Duration::from_millis(3100), "{after:?}");
            }
            other => panic!("{other:?}"),
        }
        let r = response(429, &[("x-ratelimit-reset", "1.5")]);
        let attempt = Attempt {
            operation: "op",
            method: &Method::Get,
            idempotent: true,
            number: 1,
            elapsed: Duration::ZERO,
            outcome: Ok(&r),
        };
        assert_eq!(attempt.server_wait(), Some(Duration::from_millis(1500)));
    }

    #[test]
    fn total_time_is_capped() {
        let r = response(429, &[("retry-after", "120")]);
        assert_eq!(decide(Method::Get, 1, Ok(&r)), RetryDecision::Stop);
    }
}
