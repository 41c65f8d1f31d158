//! Work units: single pieces of work.

use std::sync::Arc;

use crate::attempt::Attempt;
use crate::data::Data;
use crate::error::Result;
use crate::meta::WorkUnitMeta;
use crate::status::WorkUnitStatus;
use crate::work_spec::WorkSpec;

/// One unit to create: an item of chaining output, or an entry for
/// [`WorkSpec::add_work_units`].
#[derive(Debug, Clone, PartialEq)]
pub struct NewWorkUnit {
    /// The unit's name.
    pub name: String,
    /// The unit's data.
    pub data: Data,
    /// Priority and not-before time.
    pub meta: WorkUnitMeta,
}

/// One piece of work in a work spec.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait WorkUnit: Send + Sync + std::any::Any {
    /// The unit's name, unique within its work spec.
    fn name(&self) -> &str;

    /// The work spec the unit belongs to.
    fn work_spec(&self) -> Arc<dyn WorkSpec>;

    /// The active attempt's data if that attempt has data, otherwise the
    /// unit's own data.
    ///
    /// Errors: [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn data(&self) -> Result<Data>;

    /// The status, derived from the active attempt and not-before time.
    ///
    /// Errors: [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn status(&self) -> Result<WorkUnitStatus>;

    /// Priority and not-before time.
    ///
    /// Errors: [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn meta(&self) -> Result<WorkUnitMeta>;

    /// Replaces priority and not-before time.
    ///
    /// Errors: [`InvalidInput`](crate::Error::InvalidInput) for a non-finite
    /// priority; [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn set_meta(&self, meta: WorkUnitMeta) -> Result<()>;

    /// The priority.
    ///
    /// Errors: [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn priority(&self) -> Result<f64>;

    /// Sets the priority.
    ///
    /// Errors: [`InvalidInput`](crate::Error::InvalidInput) for a non-finite
    /// priority; [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn set_priority(&self, priority: f64) -> Result<()>;

    /// The attempt that decides the unit's status, if any.
    ///
    /// Errors: [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn active_attempt(&self) -> Result<Option<Arc<dyn crate::attempt::Attempt>>>;

    /// Forgets the active attempt (the attempt itself stays in the history),
    /// making the unit available again.
    ///
    /// Errors: [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn clear_active_attempt(&self) -> Result<()>;

    /// Every attempt ever made on the unit, oldest first.
    ///
    /// Errors: [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn attempts(&self) -> Result<Vec<Arc<dyn Attempt>>>;

    /// Number of attempts ever made on the unit.
    ///
    /// Errors: [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn num_attempts(&self) -> Result<usize>;
}
