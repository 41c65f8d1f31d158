//! The runtime's settings and their defaults.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::runtime::Backoff;

/// How results reach the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompletionMode {
    /// A completer thread sends results in batches with
    /// [`Namespace::complete_attempts`](crate::Namespace::complete_attempts):
    /// when `size` results wait, or `delay` after the first of them,
    /// whichever comes first.
    Batched {
        /// Most results in one batch.
        size: usize,
        /// Longest a result waits for others to join it.
        delay: Duration,
    },
    /// Each executor completes its own result at once with the single call
    /// (`finish`, `fail`, `retry`), as a hand-written loop does.
    Immediate,
}

impl Default for CompletionMode {
    /// Batches of up to 100, or after 5 ms.
    fn default() -> Self {
        CompletionMode::Batched {
            size: 100,
            delay: Duration::from_millis(5),
        }
    }
}

/// Every setting of a runtime; [`RuntimeBuilder`](super::RuntimeBuilder)
/// fills it.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) concurrency: usize,
    pub(crate) prefetch: usize,
    pub(crate) lease: Duration,
    pub(crate) poll_interval: Duration,
    pub(crate) grace: Duration,
    pub(crate) abandon_after: Duration,
    pub(crate) completion: CompletionMode,
    pub(crate) backoff: Backoff,
    pub(crate) max_attempts: usize,
    pub(crate) runtimes: Vec<String>,
    /// `None`: the heartbeat.
    pub(crate) cancellation_poll: Option<Duration>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            concurrency: 4,
            prefetch: 0,
            lease: Duration::from_secs(60),
            poll_interval: Duration::from_secs(1),
            grace: Duration::from_secs(10),
            abandon_after: Duration::from_millis(500),
            completion: CompletionMode::default(),
            backoff: Backoff::default(),
            max_attempts: 25,
            runtimes: Vec::new(),
            cancellation_poll: None,
        }
    }
}

/// The shortest lease the runtime accepts: its supervisor checks leases
/// every [`TICK`], and renews a third of the way through.
pub(crate) const MIN_LEASE: Duration = Duration::from_millis(300);

/// How often the supervisor looks at deadlines and leases.
pub(crate) const TICK: Duration = Duration::from_millis(25);

impl Config {
    /// How often leases are renewed: three times per lease.
    pub(crate) fn heartbeat(&self) -> Duration {
        self.lease / 3
    }

    /// How often to renew to learn of lost attempts when the backend
    /// cannot tell.
    pub(crate) fn cancellation_poll(&self) -> Duration {
        self.cancellation_poll.unwrap_or_else(|| self.heartbeat())
    }

    /// How close to its end a lease that could not be renewed may get
    /// before its handler is cancelled: half a heartbeat, so the handler
    /// has that long to stop before anyone else can take the unit.
    pub(crate) fn lease_margin(&self) -> Duration {
        self.heartbeat() / 2
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if self.concurrency == 0 {
            return Err(Error::invalid("runtime concurrency", "must be at least 1"));
        }
        if self.lease < MIN_LEASE {
            return Err(Error::invalid(
                "runtime lease",
                format_args!("must be at least {MIN_LEASE:?}, got {:?}", self.lease),
            ));
        }
        if self.poll_interval.is_zero() {
            return Err(Error::invalid("runtime poll interval", "must not be zero"));
        }
        if self.cancellation_poll.is_some_and(|poll| poll < TICK) {
            return Err(Error::invalid(
                "runtime cancellation poll",
                format_args!("must be at least {TICK:?}"),
            ));
        }
        if self.max_attempts == 0 {
            return Err(Error::invalid("runtime max attempts", "must be at least 1"));
        }
        if let CompletionMode::Batched { size: 0, .. } = self.completion {
            return Err(Error::invalid("runtime batch size", "must be at least 1"));
        }
        if self.backoff.base > self.backoff.cap {
            return Err(Error::invalid("runtime backoff", "base is above the cap"));
        }
        Ok(())
    }
}
