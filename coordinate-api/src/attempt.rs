//! Attempts: a worker's lease on a work unit.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::data::Data;
use crate::error::Result;
use crate::status::AttemptStatus;
use crate::work_unit::WorkUnit;
use crate::worker::Worker;

/// One worker's try at one work unit. It expires unless renewed.
///
/// In every completion call, `None` as data keeps the data the attempt
/// already has.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait Attempt: Send + Sync + std::any::Any {
    /// The unit being worked on.
    fn work_unit(&self) -> Arc<dyn WorkUnit>;

    /// The worker doing it.
    fn worker(&self) -> Arc<dyn Worker>;

    /// The attempt's status.
    ///
    /// Errors: [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn status(&self) -> Result<AttemptStatus>;

    /// The attempt's data; the unit's data until the worker sets its own.
    ///
    /// Errors: [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn data(&self) -> Result<Data>;

    /// The unit's data as it was when this attempt was handed out, if the
    /// backend fetched it with the claim (PostgreSQL does, for the units of
    /// one `request_attempts` in the same statement); `None` otherwise.
    /// Unlike [`data`](Attempt::data) it costs no read, and it does not see
    /// later changes: the runtime gives it to handlers as their job's data.
    fn claimed_data(&self) -> Option<Data> {
        None
    }

    /// When the attempt was made.
    ///
    /// Errors: [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn start_time(&self) -> Result<DateTime<Utc>>;

    /// When the attempt ended, if it has.
    ///
    /// Errors: [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn end_time(&self) -> Result<Option<DateTime<Utc>>>;

    /// When the lease runs out unless renewed.
    ///
    /// Errors: [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn expiration_time(&self) -> Result<DateTime<Utc>>;

    /// Extends the lease to now + `extend` and replaces the data if given.
    ///
    /// Errors: [`LostLease`](crate::Error::LostLease) when the attempt is no
    /// longer its unit's active attempt (it then becomes expired),
    /// [`NotPending`](crate::Error::NotPending) when it already ended,
    /// [`InvalidInput`](crate::Error::InvalidInput),
    /// [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn renew(&self, extend: Duration, data: Option<Data>) -> Result<()>;

    /// Gives up the lease: the attempt becomes expired and the unit available.
    /// Expiring an expired attempt does nothing.
    ///
    /// Errors: [`NotPending`](crate::Error::NotPending),
    /// [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn expire(&self, data: Option<Data>) -> Result<()>;

    /// Marks the work done. If the attempt is still active, its effective
    /// data has an `output` and the work spec has a `then`, the output
    /// becomes new units of that next work spec.
    ///
    /// Errors: [`NotPending`](crate::Error::NotPending),
    /// [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn finish(&self, data: Option<Data>) -> Result<()>;

    /// Marks the work failed.
    ///
    /// Errors: [`NotPending`](crate::Error::NotPending),
    /// [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn fail(&self, data: Option<Data>) -> Result<()>;

    /// Asks for the work to be tried again after `delay`: the attempt becomes
    /// retryable and the unit delayed, then available.
    ///
    /// Errors: [`NotPending`](crate::Error::NotPending),
    /// [`InvalidInput`](crate::Error::InvalidInput) for an absurd delay,
    /// [`Gone`](crate::Error::Gone), [`Backend`](crate::Error::Backend).
    fn retry(&self, data: Option<Data>, delay: Duration) -> Result<()>;
}
