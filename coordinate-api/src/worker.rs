//! Workers: the processes (or threads) that do work.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::attempt::Attempt;
use crate::data::Data;
use crate::error::Result;
use crate::query::AttemptRequest;
use crate::work_unit::WorkUnit;

/// Someone doing work, identified by name within a namespace.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait Worker: Send + Sync + std::any::Any {
    /// The worker's name.
    fn name(&self) -> &str;

    /// The parent worker, if one is set.
    ///
    /// Errors: [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn parent(&self) -> Result<Option<Arc<dyn Worker>>>;

    /// Sets or clears the parent worker.
    ///
    /// Errors: [`WrongBackend`](crate::Error::WrongBackend) for a worker of
    /// another backend, [`InvalidInput`](crate::Error::InvalidInput) for a
    /// worker of another namespace or the worker itself,
    /// [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn set_parent(&self, parent: Option<Arc<dyn Worker>>) -> Result<()>;

    /// Workers whose parent is this one, in name order.
    ///
    /// Errors: [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn children(&self) -> Result<Vec<Arc<dyn Worker>>>;

    /// Whether the worker is active (new workers are).
    ///
    /// Errors: [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn active(&self) -> Result<bool>;

    /// Marks the worker inactive.
    ///
    /// Errors: [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn deactivate(&self) -> Result<()>;

    /// The mode last reported by [`Worker::update`].
    ///
    /// Errors: [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn mode(&self) -> Result<String>;

    /// The data last reported by [`Worker::update`].
    ///
    /// Errors: [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn data(&self) -> Result<Data>;

    /// When the worker's last report stops being current.
    ///
    /// Errors: [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn expiration(&self) -> Result<DateTime<Utc>>;

    /// When the worker last reported.
    ///
    /// Errors: [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn last_update(&self) -> Result<DateTime<Utc>>;

    /// Records a report: data, time of the report, expiry of the report and
    /// mode. Also marks the worker active again.
    ///
    /// Errors: [`InvalidInput`](crate::Error::InvalidInput),
    /// [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn update(
        &self,
        data: Data,
        now: DateTime<Utc>,
        expiration: DateTime<Utc>,
        mode: &str,
    ) -> Result<()>;

    /// Asks the scheduler for work. Returns no attempts (not an error) when
    /// there is nothing to do.
    ///
    /// Errors: [`InvalidInput`](crate::Error::InvalidInput) for a lifetime
    /// too large to add to a timestamp; [`Gone`](crate::Error::Gone),
    /// [`Backend`](crate::Error::Backend).
    fn request_attempts(&self, request: &AttemptRequest) -> Result<Vec<Arc<dyn Attempt>>>;

    /// Makes an attempt on a specific unit, bypassing the scheduler. The new
    /// attempt becomes the unit's active attempt.
    ///
    /// Errors: [`WrongBackend`](crate::Error::WrongBackend),
    /// [`InvalidInput`](crate::Error::InvalidInput) for a unit of another
    /// namespace or an absurd lifetime, [`Gone`](crate::Error::Gone),
    /// [`Backend`](crate::Error::Backend).
    fn make_attempt(&self, unit: Arc<dyn WorkUnit>, lifetime: Duration)
        -> Result<Arc<dyn Attempt>>;

    /// The worker's attempts that are still pending, oldest first.
    ///
    /// Errors: [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn active_attempts(&self) -> Result<Vec<Arc<dyn Attempt>>>;

    /// Every attempt the worker ever made, oldest first.
    ///
    /// Errors: [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn all_attempts(&self) -> Result<Vec<Arc<dyn Attempt>>>;

    /// The active attempts of all of this worker's children.
    ///
    /// Errors: [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn child_attempts(&self) -> Result<Vec<Arc<dyn Attempt>>>;
}
