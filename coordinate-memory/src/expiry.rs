//! Ending attempts: by expiry when their lease runs out, by their worker,
//! or because their unit was deleted.
//!
//! Each namespace keeps its pending attempts ordered by expiration time,
//! so expiry looks only at the attempts that are overdue: when nothing is,
//! it costs one look at the first entry. It runs on every request for work
//! and before every read that depends on a unit's status, and it only ever
//! touches its own namespace.

use chrono::{DateTime, Utc};
use coordinate_api::{AttemptStatus, Data};

use crate::coordinate::Id;
use crate::namespace::NamespaceState;

impl NamespaceState {
    /// Expires every pending attempt whose lease ended before `now`,
    /// releasing its unit if it is still the unit's active attempt.
    pub(crate) fn expire(&mut self, now: DateTime<Utc>) {
        while let Some(&(expiration, id)) = self.expiry.first() {
            if expiration >= now {
                break;
            }
            self.end_attempt(id, AttemptStatus::Expired, None, true, now);
        }
    }

    /// Ends an attempt with `status` at `now`: takes it off its worker's
    /// active list and out of the expiry queue, replaces its data if given,
    /// and, with `release`, releases the unit if the attempt was its active
    /// one. Refiles the unit.
    pub(crate) fn end_attempt(
        &mut self,
        id: Id,
        status: AttemptStatus,
        data: Option<Data>,
        release: bool,
        now: DateTime<Utc>,
    ) {
        let Some(attempt) = self.attempts.get_mut(&id) else {
            return;
        };
        if attempt.status == AttemptStatus::Pending {
            self.expiry.remove(&(attempt.expiration, id));
            if status == AttemptStatus::Expired {
                self.taken = self.taken.wrapping_add(1);
            }
        }
        attempt.status = status;
        attempt.end = Some(now);
        if data.is_some() {
            attempt.data = data;
        }
        let (spec, unit, worker) = (attempt.spec, attempt.unit, attempt.worker);
        if let Some(worker) = self.workers.get_mut(&worker) {
            worker.active_attempts.remove(&id);
        }
        let Some(spec) = self.specs.get_mut(&spec) else {
            return;
        };
        if release {
            if let Some(unit) = spec.units.get_mut(&unit) {
                if unit.active == Some(id) {
                    unit.active = None;
                }
            }
        }
        spec.reindex(&self.attempts, unit, now);
    }

    /// Removes an attempt entirely (its unit is being deleted).
    pub(crate) fn forget_attempt(&mut self, id: Id) {
        let Some(attempt) = self.attempts.remove(&id) else {
            return;
        };
        if attempt.status == AttemptStatus::Pending {
            self.expiry.remove(&(attempt.expiration, id));
        }
        if let Some(worker) = self.workers.get_mut(&attempt.worker) {
            worker.active_attempts.remove(&id);
            worker.all_attempts.remove(&id);
        }
    }
}
