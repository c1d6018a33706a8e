//! Rate limiting, retries and a total time budget around any transport.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::retry::{rate_limit_remaining, rate_limit_reset};
use crate::{
    Attempt, BoxFuture, Error, ExponentialBackoff, HttpRequest, HttpResponse, RateLimiter,
    RetryDecision, RetryPolicy, StatusCode, Transport,
};

/// Wraps a transport with a shared [`RateLimiter`], a [`RetryPolicy`] and a
/// total time budget per call. Each attempt waits for the limiter; the
/// service's rate-limit headers and `429`s feed back into it. A wait (the
/// limiter's, or a retry's backoff) that would outlast what is left of the
/// budget is not started: the call answers at once with the last attempt's
/// outcome, or [`Error::RateLimited`] when no attempt was made.
///
/// Tracing: records `attempts` and `limiter_wait_ms` on the current span
/// (the client's per-call span declares them) and logs each retry at `INFO`
/// with its reason and wait; never a header.
///
/// ```
/// use std::time::Duration;
/// use clickhouse_cloud_transport::{ExponentialBackoff, RateLimit, RateLimiter, Resilient};
/// # fn wrap(inner: impl clickhouse_cloud_transport::Transport + 'static) {
/// let transport = Resilient::new(inner)
///     .rate_limiter(RateLimiter::shared("https://api.clickhouse.cloud|my-key", RateLimit::PUBLISHED))
///     .retry_policy(ExponentialBackoff { max_attempts: 3, ..Default::default() })
///     .total_timeout(Duration::from_secs(30));
/// # }
/// ```
#[derive(Debug)]
pub struct Resilient<T> {
    inner: T,
    limiter: Option<Arc<RateLimiter>>,
    policy: Arc<dyn RetryPolicy>,
    total_timeout: Option<Duration>,
}

/// Default budget for one call, retries and waits included.
pub const DEFAULT_TOTAL_TIMEOUT: Duration = Duration::from_secs(120);

impl<T: Transport> Resilient<T> {
    /// Wraps `inner` with the default retry policy, no limiter and the
    /// default total timeout.
    pub fn new(inner: T) -> Self {
        Self {
            inner,
            limiter: None,
            policy: Arc::new(ExponentialBackoff::default()),
            total_timeout: Some(DEFAULT_TOTAL_TIMEOUT),
        }
    }

    /// Throttles every attempt through `limiter`.
    pub fn rate_limiter(mut self, limiter: Arc<RateLimiter>) -> Self {
        self.limiter = Some(limiter);
        self
    }

    /// Replaces the retry policy.
    pub fn retry_policy(mut self, policy: impl RetryPolicy + 'static) -> Self {
        self.policy = Arc::new(policy);
        self
    }

    /// Replaces the retry policy with a shared one.
    pub fn retry_policy_arc(mut self, policy: Arc<dyn RetryPolicy>) -> Self {
        self.policy = policy;
        self
    }

    /// Caps one call, all attempts and waits included (`None`: no cap beyond
    /// the per-attempt timeout and the policy's own).
    pub fn total_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.total_timeout = timeout.into();
        self
    }

    async fn send_with_retries(&self, request: HttpRequest) -> Result<HttpResponse, Error> {
        let started = Instant::now();
        let budget_left = || {
            self.total_timeout.map_or(Duration::MAX, |limit| {
                limit.saturating_sub(started.elapsed())
            })
        };
        let span = tracing::Span::current();
        let mut limiter_wait = Duration::ZERO;
        // The previous attempt's outcome: what the call answers when the
        // budget cannot cover another attempt (its status and `requestId`
        // say more than a timeout would).
        let mut previous: Option<Result<HttpResponse, Error>> = None;
        let mut number = 0;
        loop {
            number += 1;
            if let Some(limiter) = &self.limiter {
                let budget_left = budget_left();
                match limiter.acquire_within(budget_left).await {
                    Ok(waited) => limiter_wait += waited,
                    Err(wait) => {
                        span.record("attempts", number - 1);
                        tracing::info!(
                            operation = request.operation,
                            attempt = number,
                            wait_ms = wait.as_millis() as u64,
                            budget_left_ms = budget_left.as_millis() as u64,
                            "giving up: the limiter's wait exceeds the time budget"
                        );
                        return previous.unwrap_or(Err(Error::RateLimited {
                            operation: request.operation,
                            wait,
                            budget_left,
                        }));
                    }
                }
            }
            span.record("attempts", number);
            span.record("limiter_wait_ms", limiter_wait.as_millis() as u64);
            let outcome = self.inner.send(request.clone()).await;
            if let (Some(limiter), Ok(response)) = (&self.limiter, &outcome) {
                feed_back(limiter, response);
            }
            let attempt = Attempt {
                method: &request.method,
                number,
                elapsed: started.elapsed(),
                outcome: outcome.as_ref(),
            };
            let after = match self.policy.decide(&attempt) {
                RetryDecision::Stop => return outcome,
                RetryDecision::Retry { after } => after,
            };
            let reason = match &outcome {
                Ok(response) => format!("HTTP {}", response.status.as_u16()),
                Err(error) => error.kind().to_owned(),
            };
            let budget_left = budget_left();
            if after >= budget_left {
                tracing::info!(
                    operation = request.operation,
                    attempt = number,
                    wait_ms = after.as_millis() as u64,
                    budget_left_ms = budget_left.as_millis() as u64,
                    reason,
                    "giving up: the retry's wait exceeds the time budget"
                );
                return outcome;
            }
            tracing::info!(
                operation = request.operation,
                attempt = number,
                wait_ms = after.as_millis() as u64,
                reason,
                "retrying"
            );
            previous = Some(outcome);
            tokio::time::sleep(after).await;
        }
    }
}

/// Lets the service's view of the budget slow the limiter down.
fn feed_back(limiter: &RateLimiter, response: &HttpResponse) {
    let reset = rate_limit_reset(&response.headers);
    if response.status == StatusCode::TOO_MANY_REQUESTS {
        let wait = crate::retry::retry_after(&response.headers)
            .or(reset)
            .unwrap_or(limiter.limit().window);
        limiter.pause_for(wait);
    } else if rate_limit_remaining(&response.headers) == Some(0) {
        if let Some(reset) = reset {
            limiter.pause_for(reset);
        }
    }
}

impl<T: Transport> Transport for Resilient<T> {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, Error>> {
        Box::pin(async move {
            let operation = request.operation;
            match self.total_timeout {
                Some(limit) => tokio::time::timeout(limit, self.send_with_retries(request))
                    .await
                    .unwrap_or(Err(Error::Timeout {
                        operation,
                        after: limit,
                    })),
                None => self.send_with_retries(request).await,
            }
        })
    }
}
