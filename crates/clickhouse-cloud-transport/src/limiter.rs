//! Client-side rate limiting: stay under the service's per-key limit instead
//! of running into `429`s.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use tokio::time::Instant;

/// At most `requests` requests in any window of `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RateLimit {
    /// Requests allowed per window.
    pub requests: u32,
    /// Length of the window.
    pub window: Duration,
}

impl RateLimit {
    /// The service's published limit: 10 requests per 10 seconds per key.
    pub const PUBLISHED: RateLimit = RateLimit {
        requests: 10,
        window: Duration::from_secs(10),
    };
}

impl Default for RateLimit {
    fn default() -> Self {
        Self::PUBLISHED
    }
}

/// A sliding-window limiter shared by everything that sends with one key.
///
/// Each request reserves the earliest start time at which it keeps at most
/// `requests` starts in any `window` (plus a small margin for network
/// jitter); callers wait in arrival order. The service's own headers
/// (`X-RateLimit-Remaining: 0` with `X-RateLimit-Reset`, or a `429` with
/// `Retry-After`) push the next start further out: for later callers, and
/// for callers already waiting their turn, whose reservations move past
/// the pause in the same order and spacing.
///
/// ```
/// use std::time::Duration;
/// use clickhouse_cloud_transport::{RateLimit, RateLimiter};
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let limiter = RateLimiter::new(RateLimit { requests: 2, window: Duration::from_millis(50) });
/// limiter.acquire().await;
/// limiter.acquire().await;
/// let waited = limiter.acquire().await; // the third waits for the window to pass
/// assert!(waited >= Duration::from_millis(40));
/// # }
/// ```
#[derive(Debug)]
pub struct RateLimiter {
    limit: RateLimit,
    margin: Duration,
    max_pause: Duration,
    state: Mutex<State>,
}

/// The longest the service's headers may hold the limiter back at once
/// (see [`RateLimiter::pause_for`]): a `Retry-After` or `X-RateLimit-Reset`
/// of hours or days pauses every caller of the key for this long, no
/// longer. A service that still refuses afterwards says so again with its
/// next answer.
pub const DEFAULT_MAX_PAUSE: Duration = Duration::from_secs(120);

#[derive(Debug, Default)]
struct State {
    /// Reserved start times with their tickets: starts non-decreasing,
    /// tickets increasing, newest last.
    starts: VecDeque<(u64, Instant)>,
    /// The ticket of the next reservation.
    next_ticket: u64,
    /// No start before this (from the service's feedback).
    blocked_until: Option<Instant>,
}

impl State {
    /// The reserved start of `ticket`, unless it has expired.
    fn start_of(&self, ticket: u64) -> Option<Instant> {
        let at = self
            .starts
            .binary_search_by_key(&ticket, |&(ticket, _)| ticket)
            .ok()?;
        Some(self.starts[at].1)
    }
}

/// Extra spacing per window, so that latency jitter between the client's
/// clock and the service's window never lets an extra request in: this, or
/// `window / MARGIN_DIVISOR` when that is shorter.
const DEFAULT_MARGIN: Duration = Duration::from_millis(100);

/// The margin is at most `window / MARGIN_DIVISOR`: 2 % of the window, 20 ms
/// for a one-second window, the full 100 ms from a five-second one (the
/// published ten-second window included).
const MARGIN_DIVISOR: u32 = 50;

impl RateLimiter {
    /// A limiter of its own (not shared through [`RateLimiter::shared`]),
    /// whose pauses last at most [`DEFAULT_MAX_PAUSE`].
    pub fn new(limit: RateLimit) -> Self {
        Self::with_max_pause(limit, DEFAULT_MAX_PAUSE)
    }

    /// A limiter of its own whose pauses (from the service's headers) last
    /// at most `max_pause`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use clickhouse_cloud_transport::{RateLimit, RateLimiter};
    /// let limiter = RateLimiter::with_max_pause(RateLimit::PUBLISHED, Duration::from_secs(30));
    /// assert_eq!(limiter.max_pause(), Duration::from_secs(30));
    /// ```
    pub fn with_max_pause(limit: RateLimit, max_pause: Duration) -> Self {
        Self {
            limit,
            margin: DEFAULT_MARGIN.min(limit.window / MARGIN_DIVISOR),
            max_pause,
            state: Mutex::new(State::default()),
        }
    }

    /// The limiter for `scope` (e.g. base URL and key ID): every caller
    /// with the same scope and limit in this process shares one, so clones
    /// of a client and separate clients for one key throttle together.
    /// Its pauses last at most [`DEFAULT_MAX_PAUSE`].
    pub fn shared(scope: &str, limit: RateLimit) -> Arc<Self> {
        Self::shared_with_max_pause(scope, limit, DEFAULT_MAX_PAUSE)
    }

    /// Like [`RateLimiter::shared`], with pauses of at most `max_pause`
    /// (callers that ask for another maximum get another limiter).
    ///
    /// ```
    /// use std::time::Duration;
    /// use clickhouse_cloud_transport::{RateLimit, RateLimiter};
    /// let a = RateLimiter::shared_with_max_pause("https://x|k", RateLimit::PUBLISHED, Duration::from_secs(5));
    /// let b = RateLimiter::shared_with_max_pause("https://x|k", RateLimit::PUBLISHED, Duration::from_secs(5));
    /// assert!(std::sync::Arc::ptr_eq(&a, &b));
    /// ```
    pub fn shared_with_max_pause(scope: &str, limit: RateLimit, max_pause: Duration) -> Arc<Self> {
        type Registry = Mutex<HashMap<(String, RateLimit, Duration), Weak<RateLimiter>>>;
        static REGISTRY: OnceLock<Registry> = OnceLock::new();
        let registry = REGISTRY.get_or_init(Default::default);
        let mut map = registry.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, weak| weak.strong_count() > 0);
        let key = (scope.to_owned(), limit, max_pause);
        if let Some(existing) = map.get(&key).and_then(Weak::upgrade) {
            return existing;
        }
        let limiter = Arc::new(Self::with_max_pause(limit, max_pause));
        map.insert(key, Arc::downgrade(&limiter));
        limiter
    }

    /// The limit enforced.
    pub fn limit(&self) -> RateLimit {
        self.limit
    }

    /// The longest one pause from the service's headers holds callers
    /// back ([`DEFAULT_MAX_PAUSE`] unless set).
    pub fn max_pause(&self) -> Duration {
        self.max_pause
    }

    /// Waits until a request may start; returns how long it waited.
    /// Dropping the future gives up the wait (the reserved slot stays used,
    /// which errs on the safe side).
    pub async fn acquire(&self) -> Duration {
        match self.acquire_within(Duration::MAX).await {
            Ok(waited) | Err(waited) => waited,
        }
    }

    /// Like [`RateLimiter::acquire`], but only if the wait is at most
    /// `budget`: otherwise returns at once with `Err(wait needed)`, and
    /// reserves nothing. When the service pauses the limiter while this
    /// caller waits and the new start is beyond `budget`, the wait ends
    /// then with `Err(wait needed)`; the slot stays taken.
    ///
    /// ```
    /// use std::time::Duration;
    /// use clickhouse_cloud_transport::{RateLimit, RateLimiter};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let limiter = RateLimiter::new(RateLimit { requests: 1, window: Duration::from_secs(60) });
    /// assert_eq!(limiter.acquire_within(Duration::from_secs(1)).await, Ok(Duration::ZERO));
    /// let needed = limiter.acquire_within(Duration::from_secs(1)).await.unwrap_err();
    /// assert!(needed > Duration::from_secs(59));
    /// # }
    /// ```
    pub async fn acquire_within(&self, budget: Duration) -> Result<Duration, Duration> {
        let (asked_at, ticket, mut start) = self.reserve(budget)?;
        if start <= asked_at {
            return Ok(Duration::ZERO);
        }
        loop {
            tokio::time::sleep_until(start).await;
            // A pause that came while this caller slept moved its start.
            let moved = self.lock().start_of(ticket).filter(|&moved| moved > start);
            let Some(moved) = moved else {
                return Ok(start.saturating_duration_since(asked_at));
            };
            let wait = moved.saturating_duration_since(asked_at);
            if wait > budget {
                return Err(wait);
            }
            start = moved;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reserves the earliest start, unless it is more than `budget` away
    /// (then `Err(wait)`); returns the time of the reservation, its ticket
    /// and the start.
    fn reserve(&self, budget: Duration) -> Result<(Instant, u64, Instant), Duration> {
        let mut state = self.lock();
        // Read the clock under the lock: reservations are then in clock
        // order, and a caller that read the clock just before another
        // reserved is not sent to sleep until that other's start (a
        // sleep of microseconds that the timer rounds up to a millisecond).
        let now = Instant::now();
        let span = self.limit.window + self.margin;
        while state
            .starts
            .front()
            .is_some_and(|&(_, first)| first + span <= now)
        {
            state.starts.pop_front();
        }
        let mut start = now;
        let allowed = self.limit.requests.max(1) as usize;
        if state.starts.len() >= allowed {
            let (_, nth_back) = state.starts[state.starts.len() - allowed];
            start = start.max(nth_back + span);
        }
        if let Some(&(_, last)) = state.starts.back() {
            start = start.max(last);
        }
        if let Some(blocked) = state.blocked_until {
            start = start.max(blocked);
        }
        let wait = start.saturating_duration_since(now);
        if wait > budget {
            return Err(wait);
        }
        let ticket = state.next_ticket;
        state.next_ticket += 1;
        state.starts.push_back((ticket, start));
        Ok((now, ticket, start))
    }

    /// Tells the limiter the service wants no request for `wait` (a `429`
    /// with `Retry-After`, or `X-RateLimit-Remaining: 0`), at most
    /// [`RateLimiter::max_pause`]: one answer cannot hold every caller of
    /// the key back for longer. Reservations not started yet move past the
    /// pause, keeping their order and the limit's spacing.
    ///
    /// ```
    /// use std::time::Duration;
    /// use clickhouse_cloud_transport::{RateLimit, RateLimiter};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let limiter = RateLimiter::with_max_pause(RateLimit::PUBLISHED, Duration::from_millis(20));
    /// limiter.pause_for(Duration::from_secs(10 * 24 * 3600)); // "come back in ten days"
    /// let waited = limiter.acquire().await;
    /// assert!(waited <= Duration::from_millis(20));
    /// # }
    /// ```
    pub fn pause_for(&self, wait: Duration) {
        let wait = wait.min(self.max_pause);
        let span = self.limit.window + self.margin;
        let allowed = self.limit.requests.max(1) as usize;
        let mut state = self.lock();
        // The clock under the lock, as in `reserve`.
        let now = Instant::now();
        let until = now + wait;
        state.blocked_until = Some(state.blocked_until.map_or(until, |b| b.max(until)));
        for index in 0..state.starts.len() {
            let (ticket, start) = state.starts[index];
            if start <= now {
                continue;
            }
            let mut moved = start.max(until);
            if index >= allowed {
                moved = moved.max(state.starts[index - allowed].1 + span);
            }
            if index > 0 {
                moved = moved.max(state.starts[index - 1].1);
            }
            state.starts[index] = (ticket, moved);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn never_more_than_the_limit_in_any_window() {
        let limit = RateLimit {
            requests: 3,
            window: Duration::from_secs(1),
        };
        let limiter = RateLimiter::new(limit);
        let origin = Instant::now();
        let mut starts = Vec::new();
        for _ in 0..10 {
            limiter.acquire().await;
            starts.push(Instant::now() - origin);
        }
        for (i, start) in starts.iter().enumerate().skip(3) {
            assert!(*start >= starts[i - 3] + limit.window, "{starts:?}");
        }
        // Close to the minimum: 10 requests at 3/s need 3 full windows.
        let last = *starts.last().unwrap();
        assert!(last >= Duration::from_secs(3), "{last:?}");
        assert!(last <= Duration::from_millis(3400), "{last:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn pause_pushes_the_next_start_out() {
        let limiter = RateLimiter::new(RateLimit::PUBLISHED);
        limiter.pause_for(Duration::from_secs(2));
        let waited = limiter.acquire().await;
        assert!(waited >= Duration::from_secs(2), "{waited:?}");
    }

    /// Callers that each take their turn; returns when each started.
    fn spawn_callers(
        limiter: &Arc<RateLimiter>,
        origin: Instant,
        count: usize,
        budget: Duration,
    ) -> Vec<tokio::task::JoinHandle<Result<Duration, Duration>>> {
        (0..count)
            .map(|_| {
                let limiter = Arc::clone(limiter);
                tokio::spawn(async move {
                    limiter.acquire_within(budget).await?;
                    Ok(Instant::now() - origin)
                })
            })
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_back_callers_already_waiting() {
        let limiter = Arc::new(RateLimiter::new(RateLimit {
            requests: 2,
            window: Duration::from_secs(1),
        }));
        let origin = Instant::now();
        limiter.acquire().await;
        limiter.acquire().await;
        // Three callers reserve their turns (one window on) and sleep.
        let callers = spawn_callers(&limiter, origin, 3, Duration::MAX);
        tokio::time::sleep(Duration::from_millis(10)).await;
        // Then the service says the window is spent for 5 s.
        limiter.pause_for(Duration::from_secs(5));
        let mut starts = Vec::new();
        for caller in callers {
            starts.push(caller.await.unwrap().unwrap());
        }
        starts.sort();
        for start in &starts {
            assert!(*start >= Duration::from_millis(5010), "{starts:?}");
        }
        // The limit's spacing holds after the pause: the third waits a window more.
        assert!(
            starts[2] >= starts[0] + Duration::from_secs(1),
            "{starts:?}"
        );
        assert!(starts[2] < Duration::from_millis(6100), "{starts:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_beyond_a_waiting_callers_budget_ends_its_wait() {
        let limiter = Arc::new(RateLimiter::new(RateLimit {
            requests: 1,
            window: Duration::from_secs(1),
        }));
        let origin = Instant::now();
        limiter.acquire().await;
        let callers = spawn_callers(&limiter, origin, 1, Duration::from_secs(2));
        tokio::time::sleep(Duration::from_millis(10)).await;
        limiter.pause_for(Duration::from_secs(5));
        let needed = callers
            .into_iter()
            .next()
            .unwrap()
            .await
            .unwrap()
            .unwrap_err();
        assert!(needed >= Duration::from_secs(5), "{needed:?}");
        // It gave up when it woke for its old turn, not after the pause.
        assert!(Instant::now() - origin < Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_beyond_the_budget_reserves_nothing() {
        let limiter = RateLimiter::new(RateLimit {
            requests: 2,
            window: Duration::from_secs(10),
        });
        let budget = Duration::from_secs(1);
        assert_eq!(limiter.acquire_within(budget).await, Ok(Duration::ZERO));
        assert_eq!(limiter.acquire_within(budget).await, Ok(Duration::ZERO));
        let needed = limiter.acquire_within(budget).await.unwrap_err();
        assert!(needed >= Duration::from_secs(10), "{needed:?}");
        // The refusal took no slot: the next one waits as long, no longer.
        let waited = limiter.acquire().await;
        assert_eq!(waited, needed);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_limit_far_from_binding_never_makes_anyone_wait() {
        let limiter = Arc::new(RateLimiter::new(RateLimit {
            requests: 1_000_000,
            window: Duration::from_secs(1),
        }));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let limiter = limiter.clone();
                tokio::spawn(async move {
                    let mut waited = Duration::ZERO;
                    for _ in 0..500 {
                        waited += limiter.acquire().await;
                    }
                    waited
                })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap(), Duration::ZERO);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_of_days_lasts_at_most_the_maximum() {
        let limiter = RateLimiter::with_max_pause(
            RateLimit {
                requests: 10,
                window: Duration::from_secs(1),
            },
            Duration::from_secs(3),
        );
        limiter.pause_for(Duration::from_secs(10 * 24 * 3600));
        let needed = limiter
            .acquire_within(Duration::from_secs(1))
            .await
            .unwrap_err();
        assert!(needed <= Duration::from_secs(3), "{needed:?}");
        let waited = limiter.acquire().await;
        assert!(waited <= Duration::from_secs(3), "{waited:?}");
        // The default limiter is bounded too.
        let default = RateLimiter::new(RateLimit::PUBLISHED);
        default.pause_for(Duration::MAX);
        let waited = default.acquire().await;
        assert!(waited <= DEFAULT_MAX_PAUSE, "{waited:?}");
    }

    #[test]
    fn shared_limiters_are_shared_per_scope() {
        let a = RateLimiter::shared("https://x|key1", RateLimit::PUBLISHED);
        let b = RateLimiter::shared("https://x|key1", RateLimit::PUBLISHED);
        let c = RateLimiter::shared("https://x|key2", RateLimit::PUBLISHED);
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_tasks_share_the_budget() {
        let limiter = Arc::new(RateLimiter::new(RateLimit {
            requests: 10,
            window: Duration::from_secs(10),
        }));
        let origin = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let limiter = limiter.clone();
            tasks.push(tokio::spawn(async move {
                let mut seen = Vec::new();
                for _ in 0..5 {
                    limiter.acquire().await;
                    seen.push(Instant::now() - origin);
                }
                seen
            }));
        }
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.unwrap());
        }
        all.sort();
        assert_eq!(all.len(), 40);
        for i in 10..all.len() {
            assert!(all[i] >= all[i - 10] + Duration::from_secs(10), "{i}");
        }
        assert!(all[39] < Duration::from_secs(31), "{:?}", all[39]);
    }
}
