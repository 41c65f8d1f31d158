//! Work specs: named kinds of work holding work units.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::data::Data;
use crate::error::Result;
use crate::meta::{WorkSpecMeta, WorkUnitMeta};
use crate::query::WorkUnitQuery;
use crate::status::WorkUnitStatus;
use crate::summary::Summary;
use crate::work_unit::NewWorkUnit;
use crate::work_unit::WorkUnit;

/// A kind of work, defined by a data map with at least a `name`.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait WorkSpec: Send + Sync + std::any::Any {
    /// The work spec's name (its definition's `name`).
    fn name(&self) -> &str;

    /// The definition, exactly as last set.
    ///
    /// Errors: [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn data(&self) -> Result<Data>;

    /// Replaces the definition and re-derives every meta field from it,
    /// except that a next-continuous time in the future is kept.
    ///
    /// Errors: [`NoWorkSpecName`](crate::Error::NoWorkSpecName),
    /// [`BadWorkSpecName`](crate::Error::BadWorkSpecName),
    /// [`ChangedName`](crate::Error::ChangedName),
    /// [`InvalidInput`](crate::Error::InvalidInput),
    /// [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn set_data(&self, data: Data) -> Result<()>;

    /// The scheduling metadata; with `with_counts`, also the available and
    /// pending unit counts (otherwise those are 0).
    ///
    /// Errors: [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn meta(&self, with_counts: bool) -> Result<WorkSpecMeta>;

    /// Changes priority, weight, paused, continuous, interval, next
    /// continuous time, max running, max attempts returned and max retries.
    /// The derived fields (can be continuous, min memory, next work spec,
    /// runtime) and the counts are ignored.
    ///
    /// Errors: [`CannotBecomeContinuous`](crate::Error::CannotBecomeContinuous),
    /// [`InvalidInput`](crate::Error::InvalidInput),
    /// [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn set_meta(&self, meta: WorkSpecMeta) -> Result<()>;

    /// Adds a work unit, or replaces the data and meta of the existing unit
    /// of that name and clears its active attempt.
    ///
    /// Errors: [`InvalidInput`](crate::Error::InvalidInput) for an empty name,
    /// a NUL character or a non-finite priority; [`Gone`](crate::Error::Gone),
    /// [`Backend`](crate::Error::Backend).
    fn add_work_unit(
        &self,
        name: &str,
        data: Data,
        meta: WorkUnitMeta,
    ) -> Result<Arc<dyn WorkUnit>>;

    /// Adds or replaces many work units at once, exactly as calling
    /// [`add_work_unit`](WorkSpec::add_work_unit) for each in turn would
    /// (when a name appears twice, the later entry wins), and returns the
    /// number of distinct names written.
    ///
    /// Every name and priority is checked before anything is written, so
    /// invalid input changes nothing. The default implementation calls
    /// `add_work_unit` in a loop; backends override it to write in bulk
    /// (PostgreSQL: multi-row statements in one transaction). Whether a
    /// backend error can leave part of the batch written depends on the
    /// backend.
    ///
    /// Errors: as [`add_work_unit`](WorkSpec::add_work_unit).
    fn add_work_units(&self, units: Vec<NewWorkUnit>) -> Result<usize> {
        let units = crate::backend::validate::validate_work_unit_batch(units, |_| Ok(()))?;
        let written = units.len();
        for unit in units {
            self.add_work_unit(&unit.name, unit.data, unit.meta)?;
        }
        Ok(written)
    }

    /// The work unit called `name`.
    ///
    /// Errors: [`NoSuchWorkUnit`](crate::Error::NoSuchWorkUnit),
    /// [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn work_unit(&self, name: &str) -> Result<Arc<dyn WorkUnit>>;

    /// The units the query selects, in name order.
    ///
    /// Errors: [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn work_units(&self, query: &WorkUnitQuery) -> Result<Vec<Arc<dyn WorkUnit>>>;

    /// Number of units in each status (statuses with no units are left out).
    ///
    /// Errors: [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn count_work_unit_status(&self) -> Result<BTreeMap<WorkUnitStatus, usize>>;

    /// Sets the priority of every unit the query selects.
    ///
    /// Errors: [`InvalidInput`](crate::Error::InvalidInput) for a non-finite
    /// priority; [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn set_work_unit_priorities(&self, query: &WorkUnitQuery, priority: f64) -> Result<()>;

    /// Adds `adjustment` to the priority of every unit the query selects.
    ///
    /// Errors: [`InvalidInput`](crate::Error::InvalidInput) for a non-finite
    /// adjustment; [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn adjust_work_unit_priorities(&self, query: &WorkUnitQuery, adjustment: f64) -> Result<()>;

    /// Deletes the units the query selects, with their attempts, and returns
    /// how many were deleted.
    ///
    /// Errors: [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn delete_work_units(&self, query: &WorkUnitQuery) -> Result<usize>;

    /// Unit counts per status for this work spec.
    ///
    /// Errors: [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn summarize(&self) -> Result<Summary>;
}
