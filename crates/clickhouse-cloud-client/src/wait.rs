//! Waiting for long work: poll until a state, within a time budget.

use std::future::IntoFuture;
use std::sync::Arc;
use std::time::Duration;

use clickhouse_cloud_transport::BoxFuture;
use tokio::time::Instant;

use crate::Error;

/// First pause between two polls, unless [`Wait::interval`] says otherwise.
pub(crate) const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
/// Longest pause between two polls, unless [`Wait::max_interval`] says
/// otherwise.
pub(crate) const DEFAULT_MAX_INTERVAL: Duration = Duration::from_secs(30);
/// Each pause is this much longer than the one before, up to the longest.
const BACKOFF: f64 = 1.5;

/// How a wait is going, given to [`Wait::on_progress`] after each poll.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// What was waited for (`service`, `ClickPipe`, ...).
    pub resource: &'static str,
    /// The state the last poll saw (`None` when gone, or when the service
    /// left it out).
    pub state: Option<String>,
    /// Time since the wait began.
    pub elapsed: Duration,
    /// Polls so far.
    pub polls: u32,
}

type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// How one wait runs: what it waits for, its budget and its pace.
#[derive(Clone)]
pub(crate) struct Settings {
    pub(crate) resource: &'static str,
    pub(crate) id: String,
    pub(crate) target: String,
    pub(crate) budget: Duration,
    pub(crate) interval: Duration,
    pub(crate) max_interval: Duration,
    progress: Option<ProgressFn>,
}

type Job<T> = Box<dyn FnOnce(Pacer) -> BoxFuture<'static, Result<T, Error>> + Send>;

/// A wait for long work (a service to run, a pipe to stop, a service to be
/// gone): await it to poll until done, within a time budget.
///
/// Polls go through the client's rate limiter; the pause between two
/// polls grows from [`Wait::interval`] by half each time up to
/// [`Wait::max_interval`], and is at least what a rate-limited answer asked
/// for. A state the resource will not leave for the one waited for
/// (`failed`, `terminated`, ...) ends the wait at once with
/// [`Error::WaitFailed`]; a refusal (`403`, `404` when the resource should
/// exist, any other `4xx`) ends it at once with that error; a running-out
/// budget ends it with [`Error::WaitTimedOut`], which names the last state
/// seen. Gateway errors and timeouts only cost a poll.
///
/// ```no_run
/// use std::time::Duration;
/// use clickhouse_cloud_client::types::ServiceState;
/// # async fn run(client: clickhouse_cloud_client::Client, org: uuid::Uuid, id: uuid::Uuid) -> Result<(), clickhouse_cloud_client::Error> {
/// let service = client
///     .services(org)
///     .wait_until(id, ServiceState::Running)
///     .budget(Duration::from_secs(30 * 60))
///     .on_progress(|p| println!("{:?} after {:?}", p.state, p.elapsed))
///     .await?;
/// println!("running: {:?}", service.endpoints);
/// # Ok(()) }
/// ```
#[must_use = "a wait does nothing until awaited"]
pub struct Wait<T> {
    settings: Settings,
    job: Job<T>,
}

impl<T> std::fmt::Debug for Wait<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wait")
            .field("resource", &self.settings.resource)
            .field("id", &self.settings.id)
            .field("target", &self.settings.target)
            .field("budget", &self.settings.budget)
            .field("interval", &self.settings.interval)
            .field("max_interval", &self.settings.max_interval)
            .finish_non_exhaustive()
    }
}

impl<T: Send + 'static> Wait<T> {
    /// A wait that runs `job` with a pacer for these settings.
    pub(crate) fn new(
        resource: &'static str,
        id: impl ToString,
        target: impl Into<String>,
        budget: Duration,
        job: impl FnOnce(Pacer) -> BoxFuture<'static, Result<T, Error>> + Send + 'static,
    ) -> Self {
        Self {
            settings: Settings {
                resource,
                id: id.to_string(),
                target: target.into(),
                budget,
                interval: DEFAULT_INTERVAL,
                max_interval: DEFAULT_MAX_INTERVAL,
                progress: None,
            },
            job: Box::new(job),
        }
    }

    /// A wait that polls with `poll` until it reports the target reached.
    pub(crate) fn polling<F>(
        resource: &'static str,
        id: impl ToString,
        target: impl Into<String>,
        budget: Duration,
        poll: F,
    ) -> Self
    where
        F: FnMut() -> BoxFuture<'static, Result<Check<T>, Error>> + Send + 'static,
    {
        Self::new(resource, id, target, budget, move |mut pacer| {
            Box::pin(async move { pacer.until(poll).await })
        })
    }

    /// Gives up after `budget` in all (each operation's default fits it:
    /// minutes to provision, over an hour to restore).
    pub fn budget(mut self, budget: Duration) -> Self {
        self.settings.budget = budget;
        self
    }

    /// Pauses `interval` after the first poll (default 5 s); each pause
    /// after is half as long again, up to [`Wait::max_interval`].
    pub fn interval(mut self, interval: Duration) -> Self {
        self.settings.interval = interval;
        self.settings.max_interval = self.settings.max_interval.max(interval);
        self
    }

    /// The longest pause between two polls (default 30 s).
    pub fn max_interval(mut self, max_interval: Duration) -> Self {
        self.settings.max_interval = max_interval.max(self.settings.interval);
        self
    }

    /// Calls `report` after every poll with the state seen and the time
    /// spent.
    pub fn on_progress(mut self, report: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        self.settings.progress = Some(Arc::new(report));
        self
    }
}

impl<T: Send + 'static> IntoFuture for Wait<T> {
    type Output = Result<T, Error>;
    type IntoFuture = BoxFuture<'static, Result<T, Error>>;

    fn into_future(self) -> Self::IntoFuture {
        let pacer = Pacer {
            settings: self.settings,
            started: Instant::now(),
            polls: 0,
            next_pause: None,
            last_state: None,
        };
        (self.job)(pacer)
    }
}

/// What one poll saw.
pub(crate) struct Check<T> {
    /// The state reported (for progress and errors).
    pub(crate) state: Option<String>,
    pub(crate) verdict: Verdict<T>,
}

/// Whether a wait is over.
pub(crate) enum Verdict<T> {
    Reached(T),
    Pending,
    /// A state that will not lead to the target.
    Failed,
}

impl<T> Check<T> {
    pub(crate) fn new(state: Option<String>, verdict: Verdict<T>) -> Self {
        Self { state, verdict }
    }
}

/// The clock and pace of one wait, shared by all its steps (a delete stops,
/// waits, deletes and waits again, all within one budget).
pub(crate) struct Pacer {
    settings: Settings,
    started: Instant,
    polls: u32,
    /// The pause before the next poll; `None` before the first.
    next_pause: Option<Duration>,
    last_state: Option<String>,
}

impl Pacer {
    /// Records what a poll saw and tells the progress callback.
    pub(crate) fn saw(&mut self, state: Option<String>) {
        self.polls += 1;
        self.last_state = state;
        if let Some(report) = &self.settings.progress {
            report(&Progress {
                resource: self.settings.resource,
                state: self.last_state.clone(),
                elapsed: self.started.elapsed(),
                polls: self.polls,
            });
        }
    }

    /// The error for a state that ends the wait.
    pub(crate) fn failed(&self, state: String) -> Error {
        Error::WaitFailed {
            resource: self.settings.resource,
            id: self.settings.id.clone(),
            target: self.settings.target.clone(),
            state,
        }
    }

    /// Waits before the next poll: the next pause of the backoff, or
    /// longer when a rate-limited answer asked for it; the timeout error
    /// once the budget is spent.
    pub(crate) async fn pause(&mut self, at_least: Option<Duration>) -> Result<(), Error> {
        let left = self.settings.budget.saturating_sub(self.started.elapsed());
        if left.is_zero() {
            return Err(Error::WaitTimedOut {
                resource: self.settings.resource,
                id: self.settings.id.clone(),
                target: self.settings.target.clone(),
                last_state: self.last_state.clone(),
                budget: self.settings.budget,
            });
        }
        let pause = self.next_pause.unwrap_or(self.settings.interval);
        self.next_pause = Some(pause.mul_f64(BACKOFF).min(self.settings.max_interval));
        let pause = pause.max(at_least.unwrap_or_default());
        // The last pause ends with the budget, and one last poll follows.
        tokio::time::sleep(pause.min(left)).await;
        Ok(())
    }

    /// Polls until `poll` reports the target reached (its value), a
    /// failure state, a refusal, or the end of the budget.
    pub(crate) async fn until<T, F>(&mut self, mut poll: F) -> Result<T, Error>
    where
        F: FnMut() -> BoxFuture<'static, Result<Check<T>, Error>>,
    {
        loop {
            let at_least = match poll().await {
                Ok(check) => {
                    let state = check.state.clone();
                    self.saw(check.state);
                    match check.verdict {
                        Verdict::Reached(value) => return Ok(value),
                        Verdict::Failed => {
                            return Err(self.failed(state.unwrap_or_else(|| "unknown".into())));
                        }
                        Verdict::Pending => None,
                    }
                }
                Err(error) => self.transient(error)?,
            };
            self.pause(at_least).await?;
        }
    }

    /// A failed poll: `Ok(wait at least)` when polling again can help (rate
    /// limited, gateway error, timeout, connection failure: the client
    /// already retried what it safely could), else the error.
    pub(crate) fn transient(&self, error: Error) -> Result<Option<Duration>, Error> {
        if !error.is_retryable() {
            return Err(error);
        }
        tracing::debug!(
            resource = self.settings.resource,
            error = %error,
            "a poll failed; polling again"
        );
        Ok(error.retry_after())
    }

    /// Changes what the wait is for (a step of a longer procedure), keeping
    /// the clock and the budget.
    pub(crate) fn set_target(&mut self, target: impl Into<String>) {
        self.settings.target = target.into();
    }
}
