//! Rate limiting, retries and a total time budget around any transport.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::headers::{rate_limit_remaining, server_wait};
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
/// with the operation, the attempt's number, its status (or error kind),
/// the `requestId` when the answer had one, and the wait; never a header
/// or a body.
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

/// What one call through [`Resilient::send_reporting`] came to: the final
/// outcome, and what its earlier attempts say about it.
#[derive(Debug)]
#[non_exhaustive]
pub struct CallOutcome {
    /// The outcome the call answers with (what [`Transport::send`] returns).
    pub result: Result<HttpResponse, Error>,
    /// Attempts sent on the wire.
    pub attempts: u32,
    /// When an attempt before the one answered failed in transit after the
    /// request may have reached the service (a broken connection after
    /// sending, a timeout waiting for the answer, a `502` or `504` from a
    /// gateway): how it failed (`"timeout"`, `"connection error"`,
    /// `"HTTP 502"`, ...). The service may then have acted on the call even
    /// though the answer is an error, e.g. a `404` from a retried `DELETE`.
    pub earlier_in_transit: Option<&'static str>,
}

/// How an attempt failed in transit after the request may have reached
/// the service, if it did.
fn in_transit(outcome: &Result<HttpResponse, Error>) -> Option<&'static str> {
    match outcome {
        Ok(response) => match response.status {
            StatusCode::BAD_GATEWAY => Some("HTTP 502"),
            StatusCode::GATEWAY_TIMEOUT => Some("HTTP 504"),
            _ => None,
        },
        Err(error) if error.may_have_acted() => Some(error.kind()),
        Err(_) => None,
    }
}

/// What the attempts so far say, kept outside the call's future so that it
/// survives the total timeout dropping that future.
#[derive(Debug, Default)]
struct Progress {
    attempts: u32,
    /// The first attempt that failed in transit: its number and how.
    first_in_transit: Option<(u32, &'static str)>,
}

impl Progress {
    /// What failed in transit before attempt `answered`.
    fn before(&self, answered: u32) -> Option<&'static str> {
        self.first_in_transit
            .filter(|&(number, _)| number < answered)
            .map(|(_, how)| how)
    }
}

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

    /// Sends `request` as [`Transport::send`] does, and says besides how
    /// many attempts it took and whether an earlier attempt failed in
    /// transit (so that the service may have acted although the answer is
    /// an error).
    ///
    /// ```
    /// # use clickhouse_cloud_transport::{HttpRequest, Method, Resilient, Transport};
    /// # async fn run(transport: Resilient<impl Transport>) {
    /// let request = HttpRequest::new("openapiKeyDelete", Method::Delete, "/v1/organizations/o/keys/k");
    /// let outcome = transport.send_reporting(request).await;
    /// if outcome.earlier_in_transit.is_some() {
    ///     println!("a first attempt may have deleted it already");
    /// }
    /// # }
    /// ```
    pub async fn send_reporting(&self, request: HttpRequest) -> CallOutcome {
        let operation = request.operation;
        let mut progress = Progress::default();
        let (result, answered) = match self.total_timeout {
            Some(limit) => {
                match tokio::time::timeout(limit, self.send_with_retries(request, &mut progress))
                    .await
                {
                    Ok(answer) => answer,
                    // The attempt in flight is the one answered.
                    Err(_) => (
                        Err(Error::Timeout {
                            operation,
                            after: limit,
                            request_id: None,
                        }),
                        progress.attempts,
                    ),
                }
            }
            None => self.send_with_retries(request, &mut progress).await,
        };
        CallOutcome {
            result,
            attempts: progress.attempts,
            earlier_in_transit: progress.before(answered),
        }
    }

    /// The call, with the number of the attempt whose outcome it answers.
    async fn send_with_retries(
        &self,
        request: HttpRequest,
        progress: &mut Progress,
    ) -> (Result<HttpResponse, Error>, u32) {
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
                        return match previous {
                            Some(outcome) => (outcome, number - 1),
                            None => (
                                Err(Error::RateLimited {
                                    operation: request.operation,
                                    wait,
                                    budget_left,
                                }),
                                number,
                            ),
                        };
                    }
                }
            }
            span.record("attempts", number);
            span.record("limiter_wait_ms", limiter_wait.as_millis() as u64);
            progress.attempts = number;
            let outcome = self.inner.send(request.clone()).await;
            if progress.first_in_transit.is_none() {
                progress.first_in_transit = in_transit(&outcome).map(|how| (number, how));
            }
            if let (Some(limiter), Ok(response)) = (&self.limiter, &outcome) {
                feed_back(limiter, response);
            }
            let attempt = Attempt {
                operation: request.operation,
                method: &request.method,
                idempotent: request.idempotent,
                number,
                elapsed: started.elapsed(),
                outcome: outcome.as_ref(),
            };
            let after = match self.policy.decide(&attempt) {
                RetryDecision::Stop => return (outcome, number),
                RetryDecision::Retry { after } => after,
            };
            let (status, request_id) = match &outcome {
                Ok(response) => (Some(response.status.as_u16()), response.request_id()),
                Err(_) => (None, None),
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
                    status,
                    request_id = request_id.as_deref(),
                    reason,
                    wait_ms = after.as_millis() as u64,
                    budget_left_ms = budget_left.as_millis() as u64,
                    "giving up: the retry's wait exceeds the time budget"
                );
                return (outcome, number);
            }
            tracing::info!(
                operation = request.operation,
                attempt = number,
                status,
                request_id = request_id.as_deref(),
                reason,
                wait_ms = after.as_millis() as u64,
                "retrying"
            );
            previous = Some(outcome);
            tokio::time::sleep(after).await;
        }
    }
}

/// Lets the service's view of the budget slow the limiter down: a `429`
/// pauses it for the wait the service asked for (a whole window when it
/// named none), `X-RateLimit-Remaining: 0` until the window resets.
fn feed_back(limiter: &RateLimiter, response: &HttpResponse) {
    let wait = server_wait(response.status, &response.headers);
    if response.status == StatusCode::TOO_MANY_REQUESTS {
        limiter.pause_for(wait.unwrap_or(limiter.limit().window));
    } else if rate_limit_remaining(&response.headers) == Some(0)
        && let Some(wait) = wait
    {
        limiter.pause_for(wait);
    }
}

impl<T: Transport> Transport for Resilient<T> {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, Error>> {
        Box::pin(async move { self.send_reporting(request).await.result })
    }

    fn is_resilient(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use http::{HeaderMap, HeaderValue};

    use super::*;
    use crate::{Method, NoRetry, RateLimit};

    /// Answers `200` after 100 ms; the first answer says the window is
    /// spent for 5 s. Keeps when each request arrived.
    #[derive(Debug)]
    struct SpentAfterOne {
        origin: Instant,
        arrivals: Mutex<Vec<Duration>>,
    }

    impl Transport for SpentAfterOne {
        fn send(&self, _request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, Error>> {
            Box::pin(async move {
                let first = {
                    let mut arrivals = self.arrivals.lock().unwrap();
                    arrivals.push(self.origin.elapsed());
                    arrivals.len() == 1
                };
                tokio::time::sleep(Duration::from_millis(100)).await;
                let mut headers = HeaderMap::new();
                if first {
                    headers.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
                    headers.insert("x-ratelimit-reset", HeaderValue::from_static("5"));
                }
                Ok(HttpResponse {
                    status: StatusCode::OK,
                    headers,
                    body: "{}".into(),
                })
            })
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_spent_window_holds_back_requests_already_waiting() {
        let transport = Arc::new(
            Resilient::new(SpentAfterOne {
                origin: Instant::now(),
                arrivals: Mutex::default(),
            })
            .rate_limiter(Arc::new(RateLimiter::new(RateLimit {
                requests: 2,
                window: Duration::from_secs(1),
            })))
            .retry_policy(NoRetry),
        );
        // Two start at once; the third waits for its turn (one window on)
        // when the first answer says nothing more may start for 5 s.
        let calls: Vec<_> = (0..3)
            .map(|_| {
                let transport = Arc::clone(&transport);
                tokio::spawn(async move {
                    let request =
                        HttpRequest::new("organizationGetList", Method::Get, "/v1/organizations");
                    transport.send(request).await
                })
            })
            .collect();
        for call in calls {
            assert_eq!(call.await.unwrap().unwrap().status, StatusCode::OK);
        }
        let arrivals = transport.inner.arrivals.lock().unwrap().clone();
        assert_eq!(arrivals.len(), 3);
        assert!(arrivals[1] < Duration::from_millis(100), "{arrivals:?}");
        assert!(arrivals[2] >= Duration::from_millis(5100), "{arrivals:?}");
        assert!(transport.is_resilient());
    }
}
