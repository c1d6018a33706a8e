//! The one clock of the emulator: real time plus what tests added, and the
//! speed at which the service's state machine runs.
//!
//! Nothing sleeps to make time pass: a state is computed on read from the
//! time it began, `now >= since + delay / speed`.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use clickhouse_cloud_types::Timestamp;

/// Emulator time.
#[derive(Debug, Clone)]
pub(crate) struct Clock {
    offset: TimeDelta,
    speed: f64,
}

impl Clock {
    /// A clock at real time whose delays run `speed` times faster (any
    /// positive number; anything else counts as 1).
    pub(crate) fn new(speed: f64) -> Self {
        let speed = if speed.is_finite() && speed > 0.0 {
            speed
        } else {
            1.0
        };
        Self {
            offset: TimeDelta::zero(),
            speed,
        }
    }

    /// Real time plus the sum of all advances, to the millisecond.
    pub(crate) fn now(&self) -> Timestamp {
        let now = Utc::now()
            .checked_add_signed(self.offset)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        let millis = now.timestamp_millis();
        Timestamp(DateTime::from_timestamp_millis(millis).unwrap_or(now))
    }

    /// Moves time forward for everything: expiries, windows, state machines.
    pub(crate) fn advance(&mut self, by: Duration) {
        let by = TimeDelta::from_std(by).unwrap_or(TimeDelta::MAX);
        self.offset = self.offset.checked_add(&by).unwrap_or(TimeDelta::MAX);
    }

    /// What [`advance`](Self::advance) added so far, in milliseconds (what a
    /// state file keeps, so that its instants keep their meaning).
    pub(crate) fn offset_millis(&self) -> i64 {
        self.offset.num_milliseconds()
    }

    /// Puts the sum of all advances back to what a state file kept.
    pub(crate) fn set_offset_millis(&mut self, millis: i64) {
        self.offset = TimeDelta::try_milliseconds(millis).unwrap_or(TimeDelta::zero());
    }

    /// How long a delay of `real` lasts at this clock's speed.
    pub(crate) fn scaled(&self, real: Duration) -> TimeDelta {
        let seconds = real.as_secs_f64() / self.speed;
        let millis = (seconds * 1000.0).round();
        if millis >= i64::MAX as f64 {
            TimeDelta::MAX
        } else {
            TimeDelta::milliseconds(millis.max(0.0) as i64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_shrink_with_speed() {
        let clock = Clock::new(60.0);
        assert_eq!(clock.scaled(Duration::from_secs(60)), TimeDelta::seconds(1));
        assert_eq!(
            Clock::new(1.0).scaled(Duration::from_millis(1500)),
            TimeDelta::milliseconds(1500)
        );
        for nonsense in [0.0, -3.0, f64::NAN, f64::INFINITY] {
            assert_eq!(
                Clock::new(nonsense).scaled(Duration::from_secs(2)),
                TimeDelta::seconds(2)
            );
        }
    }

    #[test]
    fn advancing_moves_now() {
        let mut clock = Clock::new(1.0);
        let before = clock.now();
        clock.advance(Duration::from_secs(3600));
        assert!(clock.now() - before >= TimeDelta::seconds(3600));
    }
}
