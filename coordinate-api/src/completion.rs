//! Batched completions: many attempts finished, failed, retried or
//! released in one call ([`Namespace::complete_attempts`]).
//!
//! [`Namespace::complete_attempts`]: crate::Namespace::complete_attempts

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::attempt::Attempt;
use crate::backend::lifecycle::Call;
use crate::data::Data;
use crate::error::Result;

/// How [`Namespace::wait_for_work`](crate::Namespace::wait_for_work)
/// ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wakeup {
    /// Units may have become available (spuriously, at times).
    Woken,
    /// The timeout passed and nothing was heard.
    TimedOut,
    /// The timeout passed, and the backend cannot hear of new work at all
    /// at the moment (a connection pooler between it and the database,
    /// or a listener that keeps failing): callers poll.
    Polling,
}

/// How one attempt ends. `None` as data keeps the data the attempt
/// already has, as in the single calls.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// [`Attempt::finish`]: done; an `output` in the effective data chains.
    Finish(Option<Data>),
    /// [`Attempt::fail`]: failed for good.
    Fail(Option<Data>),
    /// [`Attempt::retry`]: try again after `delay`.
    Retry {
        /// The data to keep, if any.
        data: Option<Data>,
        /// How long the unit waits before it is offered again.
        delay: Duration,
    },
    /// [`Attempt::expire`]: give the lease up, the unit becomes available
    /// at once (a release).
    Expire(Option<Data>),
}

impl Outcome {
    /// The lifecycle call this outcome is.
    pub fn call(&self) -> Call {
        match self {
            Outcome::Finish(_) => Call::Finish,
            Outcome::Fail(_) => Call::Fail,
            Outcome::Retry { .. } => Call::Retry,
            Outcome::Expire(_) => Call::Expire,
        }
    }

    /// The data the outcome stores, if any.
    pub fn data(&self) -> Option<&Data> {
        match self {
            Outcome::Finish(data) | Outcome::Fail(data) | Outcome::Expire(data) => data.as_ref(),
            Outcome::Retry { data, .. } => data.as_ref(),
        }
    }

    /// The retry delay; `None` for the other outcomes.
    pub fn delay(&self) -> Option<Duration> {
        match self {
            Outcome::Retry { delay, .. } => Some(*delay),
            _ => None,
        }
    }
}

/// One entry of a batch: an attempt and how it ends.
#[derive(Clone)]
pub struct Completion {
    /// The attempt to end.
    pub attempt: Arc<dyn Attempt>,
    /// How it ends.
    pub outcome: Outcome,
}

impl Completion {
    /// A completion of `attempt` with `outcome`.
    pub fn new(attempt: Arc<dyn Attempt>, outcome: Outcome) -> Self {
        Completion { attempt, outcome }
    }

    /// Applies this completion with the single call it stands for; what
    /// [`Namespace::complete_attempts`](crate::Namespace::complete_attempts)
    /// does per entry when a backend has no batched path.
    pub fn apply_alone(&self) -> Result<()> {
        let attempt = &self.attempt;
        match &self.outcome {
            Outcome::Finish(data) => attempt.finish(data.clone()),
            Outcome::Fail(data) => attempt.fail(data.clone()),
            Outcome::Retry { data, delay } => attempt.retry(data.clone(), *delay),
            Outcome::Expire(data) => attempt.expire(data.clone()),
        }
    }
}

impl fmt::Debug for Completion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Completion")
            .field("work_unit", &self.attempt.work_unit().name())
            .field("outcome", &self.outcome)
            .finish()
    }
}
