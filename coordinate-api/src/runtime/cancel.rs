//! Cancelling a running handler: a flag with its reason, and a sleep that
//! ends early when the flag is raised.

use std::fmt;
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Why the runtime asks a handler to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CancelReason {
    /// The runtime is stopping and the grace period is over.
    Shutdown,
    /// The lease is gone: another worker holds the unit now, or the
    /// database could not be reached to renew the lease before it ran out.
    /// Whatever the handler returns is not applied.
    LeaseLost,
    /// The handler ran longer than its work spec's maximum run time.
    Deadline,
}

impl fmt::Display for CancelReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CancelReason::Shutdown => "the runtime is shutting down",
            CancelReason::LeaseLost => "the lease was lost",
            CancelReason::Deadline => "the maximum run time passed",
        })
    }
}

/// The error a cancelled [`Job::sleep`](super::Job::sleep) returns, so a
/// handler can end with `?`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cancelled(pub CancelReason);

impl fmt::Display for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cancelled: {}", self.0)
    }
}

impl std::error::Error for Cancelled {}

/// One job's cancellation flag. The first reason raised sticks.
#[derive(Default)]
pub(crate) struct Cancellation {
    reason: Mutex<Option<CancelReason>>,
    raised: Condvar,
}

impl Cancellation {
    /// Raises the flag; later reasons do not replace the first.
    pub(crate) fn cancel(&self, reason: CancelReason) {
        let mut current = self.lock();
        if current.is_none() {
            *current = Some(reason);
            self.raised.notify_all();
        }
    }

    pub(crate) fn reason(&self) -> Option<CancelReason> {
        *self.lock()
    }

    /// Sleeps for `duration`, or less when the flag is raised meanwhile.
    pub(crate) fn sleep(&self, duration: Duration) -> Result<(), Cancelled> {
        let deadline = Instant::now().checked_add(duration);
        let mut reason = self.lock();
        loop {
            if let Some(reason) = *reason {
                return Err(Cancelled(reason));
            }
            let left = match deadline {
                Some(deadline) => deadline.saturating_duration_since(Instant::now()),
                None => Duration::from_secs(3600),
            };
            if left.is_zero() {
                return Ok(());
            }
            reason = self
                .raised
                .wait_timeout(reason, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<CancelReason>> {
        self.reason.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn the_first_reason_sticks() {
        let flag = Cancellation::default();
        assert_eq!(flag.reason(), None);
        flag.cancel(CancelReason::Deadline);
        flag.cancel(CancelReason::Shutdown);
        assert_eq!(flag.reason(), Some(CancelReason::Deadline));
    }

    #[test]
    fn sleep_ends_early_when_cancelled() {
        let flag = Arc::new(Cancellation::default());
        let canceller = {
            let flag = flag.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(50));
                flag.cancel(CancelReason::Shutdown);
            })
        };
        let started = Instant::now();
        let slept = flag.sleep(Duration::from_secs(30));
        canceller.join().unwrap();
        assert_eq!(slept, Err(Cancelled(CancelReason::Shutdown)));
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn sleep_without_cancellation_runs_its_course() {
        let flag = Cancellation::default();
        let started = Instant::now();
        assert_eq!(flag.sleep(Duration::from_millis(30)), Ok(()));
        assert!(started.elapsed() >= Duration::from_millis(30));
    }
}
