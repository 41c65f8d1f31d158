//! Namespaces: independent groups of work specs and workers.

use std::sync::Arc;
use std::time::Duration;

use crate::attempt::Attempt;
use crate::completion::{Completion, Wakeup};

use crate::data::Data;
use crate::error::Result;
use crate::retention::{PruneRequest, Pruned};
use crate::summary::Summary;
use crate::work_spec::WorkSpec;
use crate::worker::Worker;

/// An independent set of work specs and workers.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait Namespace: Send + Sync + std::any::Any {
    /// The namespace's name.
    fn name(&self) -> &str;

    /// Deletes the namespace with all its work specs, units, workers and
    /// attempts. Handles to any of them then return
    /// [`Gone`](crate::Error::Gone). Destroying twice is not an error.
    ///
    /// Errors: [`Backend`](crate::Error::Backend).
    fn destroy(&self) -> Result<()>;

    /// Creates a work spec from its definition, or replaces the definition
    /// of the existing work spec of the same `name` (as
    /// [`WorkSpec::set_data`] does).
    ///
    /// Errors: [`NoWorkSpecName`](crate::Error::NoWorkSpecName),
    /// [`BadWorkSpecName`](crate::Error::BadWorkSpecName),
    /// [`InvalidInput`](crate::Error::InvalidInput),
    /// [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn set_work_spec(&self, data: Data) -> Result<Arc<dyn WorkSpec>>;

    /// The work spec called `name`.
    ///
    /// Errors: [`NoSuchWorkSpec`](crate::Error::NoSuchWorkSpec),
    /// [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn work_spec(&self, name: &str) -> Result<Arc<dyn WorkSpec>>;

    /// Deletes the work spec called `name` with its units and their attempts.
    ///
    /// Errors: [`NoSuchWorkSpec`](crate::Error::NoSuchWorkSpec),
    /// [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn destroy_work_spec(&self, name: &str) -> Result<()>;

    /// Names of every work spec, sorted.
    ///
    /// Errors: [`Backend`](crate::Error::Backend); a deleted namespace has no
    /// work specs.
    fn work_spec_names(&self) -> Result<Vec<String>>;

    /// Gets the worker called `name`, creating it if it does not exist.
    ///
    /// Errors: [`InvalidInput`](crate::Error::InvalidInput),
    /// [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn worker(&self, name: &str) -> Result<Arc<dyn Worker>>;

    /// Every worker, in name order.
    ///
    /// Errors: [`Backend`](crate::Error::Backend).
    fn workers(&self) -> Result<Vec<Arc<dyn Worker>>>;

    /// Unit counts per work spec and status in this namespace.
    ///
    /// Errors: [`Backend`](crate::Error::Backend).
    fn summarize(&self) -> Result<Summary>;

    /// Deletes what `request` selects (see [`PruneRequest`]): finished
    /// and failed units whose last attempt ended before their cutoff, with
    /// their attempts, then inactive workers without attempts that expired
    /// before theirs; at most `request.limit` records in all. Handles to
    /// them then return [`Gone`](crate::Error::Gone). Fewer than the limit
    /// does not mean nothing is left (PostgreSQL skips rows another
    /// transaction holds right now): call again until a call removes
    /// nothing. PostgreSQL deletes in short transactions of its own, so a
    /// failure part way leaves what was removed so far removed.
    ///
    /// Errors: [`InvalidInput`](crate::Error::InvalidInput) for a request
    /// [`PruneRequest::validate`] refuses, and
    /// [`NoSuchWorkSpec`](crate::Error::NoSuchWorkSpec) for a work spec
    /// it names that does not exist (both before anything is deleted);
    /// [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn prune(&self, request: &PruneRequest) -> Result<Pruned>;

    /// How many records [`Namespace::prune`] with this request would
    /// remove now, deleting nothing (a dry run). Workers are counted as
    /// they stand: one whose last attempts would go with the units is
    /// counted once they are gone.
    ///
    /// Errors: as [`Namespace::prune`].
    fn count_prunable(&self, request: &PruneRequest) -> Result<Pruned>;

    /// Ends many attempts of this namespace at once. The answer has one
    /// entry per completion, in order: what the single call (`finish`,
    /// `fail`, `retry`, `expire`) would have returned had the completions
    /// been applied one by one in that order. A refused entry (not
    /// pending, lost lease, invalid data, an attempt of another namespace
    /// or backend) changes nothing of its own and does not stop the
    /// others. Chained units of finished entries are made with the rest.
    ///
    /// Backends apply the whole batch at once (one transaction in
    /// PostgreSQL, one lock in memory); this default applies the entries
    /// one by one, so other implementations keep working.
    ///
    /// Errors (of the whole call): [`Gone`](crate::Error::Gone) when the
    /// namespace was deleted, [`Backend`](crate::Error::Backend).
    fn complete_attempts(&self, batch: &[Completion]) -> Result<Vec<Result<()>>> {
        Ok(batch.iter().map(Completion::apply_alone).collect())
    }

    /// Renews many leases at once to now + `extend`, with
    /// [`Attempt::renew`]'s rules per entry: an attempt whose unit another
    /// attempt holds now is reported as a lost lease (and becomes
    /// expired). One entry per attempt, in order.
    ///
    /// Errors (of the whole call): [`Gone`](crate::Error::Gone),
    /// [`InvalidInput`](crate::Error::InvalidInput) for an absurd
    /// extension, [`Backend`](crate::Error::Backend).
    fn renew_attempts(
        &self,
        attempts: &[Arc<dyn Attempt>],
        extend: Duration,
    ) -> Result<Vec<Result<()>>> {
        Ok(attempts
            .iter()
            .map(|attempt| attempt.renew(extend, None))
            .collect())
    }

    /// Waits until units may have become available in this namespace
    /// (added, released, expired by someone, retried without delay) or
    /// `timeout` passes. It may wake spuriously, but never misses a unit
    /// made available after the call began.
    ///
    /// This default hears nothing: it sleeps for the timeout and answers
    /// [`Wakeup::Polling`].
    ///
    /// Errors: [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn wait_for_work(&self, timeout: Duration) -> Result<Wakeup> {
        std::thread::sleep(timeout);
        Ok(Wakeup::Polling)
    }

    /// Waits until a pending attempt in this namespace may have been taken
    /// from its worker by someone else ([`Attempt::expire`],
    /// [`WorkUnit::clear_active_attempt`](crate::WorkUnit::clear_active_attempt),
    /// deleting or re-adding its unit, a release in
    /// [`Namespace::complete_attempts`]) or `timeout` passes. A worker that
    /// is woken renews its leases at once: the attempts it lost refuse the
    /// renewal, and it stops their handlers. It may wake spuriously, but
    /// never misses such a change made after the call began.
    ///
    /// This default hears nothing: it sleeps for the timeout and answers
    /// [`Wakeup::Polling`], and workers learn of lost attempts at their
    /// next renewal.
    ///
    /// Errors: [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn wait_for_cancellation(&self, timeout: Duration) -> Result<Wakeup> {
        std::thread::sleep(timeout);
        Ok(Wakeup::Polling)
    }
}
