//! What a handler gets: one unit's job context.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;

use crate::attempt::Attempt;
use crate::data::Data;
use crate::error::Result;
use crate::runtime::cancel::{CancelReason, Cancellation, Cancelled};

/// One leased work unit, handed to a [`Handler`](super::Handler).
pub struct Job {
    attempt: Arc<dyn Attempt>,
    work_spec: String,
    work_unit: String,
    data: OnceLock<Data>,
    cancel: Arc<Cancellation>,
    started: Instant,
}

impl Job {
    /// A job for `attempt`, never cancelled unless the runtime does it; for
    /// testing handlers with a mock or memory-backend attempt.
    pub fn new(attempt: Arc<dyn Attempt>) -> Self {
        Job::with_cancellation(attempt, Arc::default())
    }

    pub(crate) fn with_cancellation(attempt: Arc<dyn Attempt>, cancel: Arc<Cancellation>) -> Self {
        let unit = attempt.work_unit();
        // Data the claim brought along saves the handler a read.
        let data = OnceLock::new();
        if let Some(claimed) = attempt.claimed_data() {
            let _ = data.set(claimed);
        }
        Job {
            work_spec: unit.work_spec().name().to_owned(),
            work_unit: unit.name().to_owned(),
            attempt,
            data,
            cancel,
            started: Instant::now(),
        }
    }

    /// The work spec's name.
    pub fn work_spec_name(&self) -> &str {
        &self.work_spec
    }

    /// The work unit's name.
    pub fn work_unit_name(&self) -> &str {
        &self.work_unit
    }

    /// The attempt the runtime holds for this job.
    pub fn attempt(&self) -> &Arc<dyn Attempt> {
        &self.attempt
    }

    /// The unit's data as the attempt began: what the claim brought along
    /// ([`Attempt::claimed_data`], no read at all), else read from the
    /// backend on first use (a handler that needs only the name costs no
    /// read); then kept.
    ///
    /// Errors: what [`Attempt::data`] returns.
    pub fn data(&self) -> Result<&Data> {
        if let Some(data) = self.data.get() {
            return Ok(data);
        }
        let data = self.attempt.data()?;
        Ok(self.data.get_or_init(|| data))
    }

    /// The unit's data as a `T` (see [`typed`](crate::typed)).
    ///
    /// Errors: [`InvalidInput`](crate::Error::InvalidInput) when the data
    /// does not have `T`'s shape, or what [`Job::data`] returns.
    pub fn data_as<T: DeserializeOwned>(&self) -> Result<T> {
        crate::typed::from_data(self.data()?)
    }

    /// How many attempts the unit has had, this one included (one read).
    ///
    /// Errors: what [`WorkUnit::num_attempts`](crate::WorkUnit::num_attempts)
    /// returns.
    pub fn attempt_number(&self) -> Result<usize> {
        self.attempt.work_unit().num_attempts()
    }

    /// Whether the runtime asked the handler to stop.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.reason().is_some()
    }

    /// Why the runtime asked the handler to stop, if it did.
    pub fn cancel_reason(&self) -> Option<CancelReason> {
        self.cancel.reason()
    }

    /// Sleeps for `duration`, returning early with [`Cancelled`] when the
    /// runtime cancels the job meanwhile.
    pub fn sleep(&self, duration: Duration) -> std::result::Result<(), Cancelled> {
        self.cancel.sleep(duration)
    }

    /// How long ago the handler started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("work_spec", &self.work_spec)
            .field("work_unit", &self.work_unit)
            .field("cancelled", &self.cancel.reason())
            .finish()
    }
}
