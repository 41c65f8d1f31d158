//! Checking a batch of completions or renewals entry by entry: the first
//! half of a backend's `complete_attempts` and `renew_attempts`, so that
//! every backend refuses the same entries for the same reasons.

use std::sync::Arc;
use std::time::Duration;

use crate::attempt::Attempt;
use crate::backend::lifecycle::Call;
use crate::completion::Completion;
use crate::data::Data;
use crate::error::Result;

/// One entry of a batch as a backend applies it: the attempt, the
/// lifecycle call, the data to store and the call's span (a renewal's
/// extension or a retry's delay; zero otherwise).
pub struct Entry<'a> {
    /// The attempt the entry is about.
    pub attempt: &'a dyn Attempt,
    /// What is asked of it.
    pub call: Call,
    /// The data to store, if any.
    pub data: Option<&'a Data>,
    /// A renewal's extension or a retry's delay.
    pub span: Duration,
}

/// The entries of `Namespace::complete_attempts`, in order.
pub fn completion_entries(batch: &[Completion]) -> impl Iterator<Item = Entry<'_>> {
    batch.iter().map(|completion| Entry {
        attempt: completion.attempt.as_ref(),
        call: completion.outcome.call(),
        data: completion.outcome.data(),
        span: completion.outcome.delay().unwrap_or_default(),
    })
}

/// The entries of `Namespace::renew_attempts`, in order.
pub fn renewal_entries(
    attempts: &[Arc<dyn Attempt>],
    extend: Duration,
) -> impl Iterator<Item = Entry<'_>> {
    attempts.iter().map(move |attempt| Entry {
        attempt: attempt.as_ref(),
        call: Call::Renew,
        data: None,
        span: extend,
    })
}

/// Checks every completion of a batch with `check`, in order: the
/// first half of a backend's `complete_attempts`.
pub fn check_completions<T>(
    batch: &[Completion],
    check: impl FnMut(Entry<'_>) -> Result<T>,
) -> Vec<Result<T>> {
    completion_entries(batch).map(check).collect()
}

/// Checks every attempt of a batch renewal with `check`, in order, after
/// refusing an extension no backend can store (the whole call's error).
pub fn check_renewals<T>(
    attempts: &[Arc<dyn Attempt>],
    extend: Duration,
    now: chrono::DateTime<chrono::Utc>,
    check: impl FnMut(Entry<'_>) -> Result<T>,
) -> Result<Vec<Result<T>>> {
    crate::backend::validate::add_duration("lease extension", now, extend)?;
    Ok(renewal_entries(attempts, extend).map(check).collect())
}
