//! Where backends get the time from.
//!
//! Backends never ask the database or the operating system for the time
//! directly: they ask a [`Clock`], so tests can drive expiry, delays and
//! continuous work specs with a [`MockClock`].

use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, DurationRound, TimeZone, Utc};

/// A source of the current time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time, at microsecond precision (what PostgreSQL stores).
    fn now(&self) -> DateTime<Utc>;
}

/// The real wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        truncate_to_micros(Utc::now())
    }
}

/// A clock that only moves when a test moves it.
#[derive(Debug)]
pub struct MockClock {
    now: Mutex<DateTime<Utc>>,
}

impl MockClock {
    /// A mock clock reading `start` (truncated to microseconds).
    pub fn new(start: DateTime<Utc>) -> Self {
        MockClock {
            now: Mutex::new(truncate_to_micros(start)),
        }
    }

    /// Sets the time.
    pub fn set(&self, now: DateTime<Utc>) {
        *self.lock() = truncate_to_micros(now);
    }

    /// Moves the time forward by `by`.
    ///
    /// # Panics
    ///
    /// If the result does not fit in a timestamp (hundreds of thousands of
    /// years ahead); that is a bug in the test driving the clock.
    pub fn advance(&self, by: Duration) {
        let mut now = self.lock();
        let by = chrono::Duration::from_std(by).expect("mock clock advanced by an absurd amount");
        *now = truncate_to_micros(*now + by);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, DateTime<Utc>> {
        // A test that panicked while holding the lock left a valid time behind.
        self.now.lock().unwrap_or_else(|poison| poison.into_inner())
    }
}

impl Default for MockClock {
    /// A mock clock at 2015-09-27 00:00:00 UTC, the day go-coordinate's
    /// first schema was written.
    fn default() -> Self {
        MockClock::new(Utc.with_ymd_and_hms(2015, 9, 27, 0, 0, 0).unwrap())
    }
}

impl Clock for MockClock {
    fn now(&self) -> DateTime<Utc> {
        *self.lock()
    }
}

/// Drops sub-microsecond precision so times survive a PostgreSQL round trip.
pub fn truncate_to_micros(time: DateTime<Utc>) -> DateTime<Utc> {
    time.duration_trunc(chrono::Duration::microseconds(1))
        .unwrap_or(time)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mock_clock_moves_only_when_told() {
        let clock = MockClock::default();
        let start = clock.now();
        assert_eq!(clock.now(), start);
        clock.advance(Duration::from_secs(90));
        assert_eq!(clock.now() - start, chrono::Duration::seconds(90));
        clock.set(start);
        assert_eq!(clock.now(), start);
    }

    #[test]
    fn times_are_truncated_to_microseconds() {
        let clock = MockClock::default();
        clock.advance(Duration::from_nanos(1_500));
        assert_eq!(clock.now().timestamp_subsec_nanos(), 1_000);
        assert_eq!(SystemClock.now().timestamp_subsec_nanos() % 1_000, 0);
    }
}
