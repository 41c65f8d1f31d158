//! History retention: which finished and failed units, and which dead
//! workers, [`Namespace::prune`](crate::Namespace::prune) removes.
//!
//! Every finished or failed unit keeps its row and its attempts until
//! someone deletes it, so a queue in production grows without bound. A
//! [`PruneRequest`] says what may go: finished units whose last attempt
//! ended before one time, failed units before another (failures are often
//! kept longer, for their tracebacks), and workers that stopped reporting
//! before a third. Backends check it with [`PruneRequest::validate`] and
//! select with the [`Retention`] it returns, so both apply the same rules.
//!
//! An operator's `prune` drives it in chunks, which bounds each call and
//! gives a progress figure between calls:
//!
//! ```
//! # use std::sync::Arc;
//! # use coordinate_api::{Coordinate, Namespace, PruneRequest, Pruned};
//! # fn main() -> coordinate_api::Result<()> {
//! # let coordinate = coordinate_memory::MemoryCoordinate::new();
//! # let namespace = coordinate.namespace("retention-doc")?;
//! let now = chrono::Utc::now();
//! let request = PruneRequest::default()
//!     .finished_before(now - chrono::Duration::days(7))
//!     .failed_before(now - chrono::Duration::days(30))
//!     .limit(10_000);
//! // --dry-run: what would go now, changing nothing.
//! let would = namespace.count_prunable(&request)?;
//! let mut done = Pruned::default();
//! loop {
//!     let step = namespace.prune(&request)?;
//!     done += step;
//!     eprintln!("{} of about {} work units removed", done.work_units, would.work_units);
//!     if step.total() == 0 {
//!         break;
//!     }
//! }
//! # Ok(())
//! # }
//! ```

use std::ops::AddAssign;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::backend::validate::{validate_name, validate_time};
use crate::clock::truncate_to_micros;
use crate::error::{Error, Result};
use crate::status::WorkUnitStatus;

/// Most records one [`PruneRequest::default`] call removes. PostgreSQL
/// deletes them in short batches of its own, so this bounds the call, not
/// a transaction.
pub const DEFAULT_PRUNE_LIMIT: usize = 10_000;

/// What [`Namespace::prune`](crate::Namespace::prune) may remove. Each
/// cutoff is optional; at least one must be given.
///
/// A unit goes when it is finished (or failed), its cutoff is given, and
/// its last attempt (the active attempt its status comes from) ended
/// strictly before that cutoff; its attempts go with it. Available,
/// pending and delayed units are never touched, nor is a terminal unit
/// whose last attempt has no end time. Units chained from a pruned unit
/// are units of their own and stay.
///
/// A worker goes when it is inactive, its expiration is before
/// `workers_expired_before`, and none of its attempts is left (they went
/// with their units). A worker with attempts is kept, because deleting a
/// worker deletes its attempts, which would rewrite the history of units
/// still kept, or make a finished unit available again. Workers whose
/// parent was pruned have no parent afterwards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PruneRequest {
    /// Finished units whose last attempt ended before this time go.
    pub finished_before: Option<DateTime<Utc>>,
    /// Failed units whose last attempt ended before this time go.
    pub failed_before: Option<DateTime<Utc>>,
    /// Inactive workers without attempts whose expiration is before this
    /// time go.
    pub workers_expired_before: Option<DateTime<Utc>>,
    /// Only units of these work specs (every work spec if empty). Each
    /// must exist: an unknown name is [`Error::NoSuchWorkSpec`].
    pub work_specs: Vec<String>,
    /// Most records (units and workers together) one call removes; at
    /// least 1. Units go first: finished before failed, work spec by work
    /// spec in name order, the oldest (by their last attempt's end) first.
    pub limit: usize,
}

impl Default for PruneRequest {
    /// Nothing to prune yet (add a cutoff), at most
    /// [`DEFAULT_PRUNE_LIMIT`] records per call.
    fn default() -> Self {
        PruneRequest {
            finished_before: None,
            failed_before: None,
            workers_expired_before: None,
            work_specs: Vec::new(),
            limit: DEFAULT_PRUNE_LIMIT,
        }
    }
}

impl PruneRequest {
    /// Also prunes finished units whose last attempt ended before `time`.
    pub fn finished_before(mut self, time: DateTime<Utc>) -> Self {
        self.finished_before = Some(time);
        self
    }

    /// Also prunes failed units whose last attempt ended before `time`.
    pub fn failed_before(mut self, time: DateTime<Utc>) -> Self {
        self.failed_before = Some(time);
        self
    }

    /// Also prunes inactive workers without attempts that expired before
    /// `time`.
    pub fn workers_expired_before(mut self, time: DateTime<Utc>) -> Self {
        self.workers_expired_before = Some(time);
        self
    }

    /// Prunes units of these work specs only.
    pub fn work_specs<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.work_specs = names.into_iter().map(Into::into).collect();
        self
    }

    /// Removes at most `limit` records per call.
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }

    /// Checks the request and puts it in the form backends select with.
    ///
    /// Errors: [`Error::InvalidInput`] when no cutoff is given, the limit
    /// is 0, work specs are named but no unit cutoff is given (they would
    /// select nothing), a work spec name is not a valid name, or a cutoff
    /// lies outside the times a backend stores.
    pub fn validate(&self) -> Result<Retention> {
        if self.finished_before.is_none()
            && self.failed_before.is_none()
            && self.workers_expired_before.is_none()
        {
            return Err(Error::invalid(
                "prune request",
                "gives no finished, failed or worker cutoff, so there is nothing to prune",
            ));
        }
        if self.limit == 0 {
            return Err(Error::invalid("limit", "must be at least 1"));
        }
        let mut units = Vec::new();
        for (status, cutoff) in [
            (WorkUnitStatus::Finished, self.finished_before),
            (WorkUnitStatus::Failed, self.failed_before),
        ] {
            if let Some(time) = cutoff {
                validate_time("prune cutoff", time)?;
                // Stored times have microseconds; a finer cutoff would
                // compare differently in each backend.
                units.push((status, truncate_to_micros(time)));
            }
        }
        if units.is_empty() && !self.work_specs.is_empty() {
            return Err(Error::invalid(
                "work_specs",
                "only select units, and the request prunes no finished or failed units",
            ));
        }
        let workers_expired_before = match self.workers_expired_before {
            Some(time) => {
                validate_time("worker cutoff", time)?;
                Some(truncate_to_micros(time))
            }
            None => None,
        };
        for name in &self.work_specs {
            validate_name("work spec name", name)?;
        }
        let mut work_specs = self.work_specs.clone();
        work_specs.sort();
        work_specs.dedup();
        Ok(Retention {
            units,
            workers_expired_before,
            work_specs,
            limit: self.limit,
        })
    }
}

/// A checked [`PruneRequest`], made by [`PruneRequest::validate`]: the
/// rules a backend selects by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retention {
    /// Each terminal status to prune with its cutoff (microseconds),
    /// finished before failed.
    pub units: Vec<(WorkUnitStatus, DateTime<Utc>)>,
    /// The workers' cutoff (microseconds), if workers are pruned.
    pub workers_expired_before: Option<DateTime<Utc>>,
    /// The work specs whose units may go, sorted and distinct (all if
    /// empty). Backends report the first one missing, in this order.
    pub work_specs: Vec<String>,
    /// Most records one call removes.
    pub limit: usize,
}

impl Retention {
    /// Whether a unit in `status` whose last attempt ended at `end` goes
    /// (its work spec selected).
    pub fn unit_goes(&self, status: WorkUnitStatus, end: Option<DateTime<Utc>>) -> bool {
        let Some(end) = end else {
            return false;
        };
        self.units
            .iter()
            .any(|&(pruned, cutoff)| pruned == status && end < cutoff)
    }

    /// Whether a worker goes, given whether it is active, its expiration
    /// and how many attempts it still has.
    pub fn worker_goes(&self, active: bool, expiration: DateTime<Utc>, attempts: usize) -> bool {
        self.workers_expired_before
            .is_some_and(|cutoff| !active && expiration < cutoff && attempts == 0)
    }

    /// Whether units of the work spec called `name` may go.
    pub fn selects_spec(&self, name: &str) -> bool {
        self.work_specs.is_empty()
            || self
                .work_specs
                .binary_search_by(|s| s.as_str().cmp(name))
                .is_ok()
    }
}

/// How many records [`Namespace::prune`](crate::Namespace::prune) removed
/// (or [`Namespace::count_prunable`](crate::Namespace::count_prunable)
/// would).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pruned {
    /// Work units, each with its attempts.
    pub work_units: usize,
    /// Workers.
    pub workers: usize,
}

impl Pruned {
    /// Units and workers together, as the request's limit counts them.
    pub fn total(&self) -> usize {
        self.work_units + self.workers
    }
}

impl AddAssign for Pruned {
    fn add_assign(&mut self, other: Pruned) {
        self.work_units += other.work_units;
        self.workers += other.workers;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(seconds: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(seconds, 0).unwrap()
    }

    fn invalid(request: PruneRequest) -> String {
        match request.validate() {
            Err(Error::InvalidInput { what, why }) => format!("{what}: {why}"),
            other => panic!("expected InvalidInput, got {other:?}"),
        }
    }

    #[test]
    fn bad_requests_are_refused() {
        assert!(invalid(PruneRequest::default()).contains("nothing to prune"));
        assert!(invalid(PruneRequest::default().finished_before(at(9)).limit(0)).contains("limit"));
        assert!(invalid(
            PruneRequest::default()
                .workers_expired_before(at(9))
                .work_specs(["a"])
        )
        .contains("work_specs"));
        assert!(invalid(
            PruneRequest::default()
                .failed_before(at(9))
                .work_specs([""])
        )
        .contains("work spec name"));
        let far = DateTime::<Utc>::MAX_UTC;
        assert!(invalid(PruneRequest::default().finished_before(far)).contains("cutoff"));
        assert!(invalid(PruneRequest::default().workers_expired_before(far)).contains("cutoff"));
    }

    #[test]
    fn requests_become_rules() {
        let fine = at(100) + chrono::Duration::nanoseconds(1_500);
        let rules = PruneRequest::default()
            .failed_before(at(50))
            .finished_before(fine)
            .work_specs(["b", "a", "b"])
            .limit(7)
            .validate()
            .unwrap();
        assert_eq!(
            rules.units,
            [
                (
                    WorkUnitStatus::Finished,
                    at(100) + chrono::Duration::microseconds(1)
                ),
                (WorkUnitStatus::Failed, at(50)),
            ]
        );
        assert_eq!(rules.work_specs, ["a", "b"]);
        assert_eq!(rules.limit, 7);
        assert!(rules.selects_spec("a") && !rules.selects_spec("c"));
        assert!(rules.unit_goes(WorkUnitStatus::Finished, Some(at(100))));
        assert!(
            !rules.unit_goes(WorkUnitStatus::Failed, Some(at(50))),
            "strictly before"
        );
        assert!(rules.unit_goes(WorkUnitStatus::Failed, Some(at(49))));
        assert!(!rules.unit_goes(WorkUnitStatus::Finished, None));
        for status in [
            WorkUnitStatus::Available,
            WorkUnitStatus::Pending,
            WorkUnitStatus::Delayed,
        ] {
            assert!(!rules.unit_goes(status, Some(at(0))), "{status}");
        }
        assert!(!rules.worker_goes(false, at(0), 0), "no worker cutoff");
    }

    #[test]
    fn workers_go_only_inactive_expired_and_without_attempts() {
        let rules = PruneRequest::default()
            .workers_expired_before(at(10))
            .validate()
            .unwrap();
        assert!(rules.units.is_empty());
        assert!(rules.worker_goes(false, at(9), 0));
        assert!(!rules.worker_goes(true, at(9), 0));
        assert!(!rules.worker_goes(false, at(10), 0));
        assert!(!rules.worker_goes(false, at(9), 1));
        let mut sum = Pruned {
            work_units: 2,
            workers: 1,
        };
        sum += Pruned {
            work_units: 3,
            workers: 0,
        };
        assert_eq!((sum.work_units, sum.workers, sum.total()), (5, 1, 6));
    }
}
