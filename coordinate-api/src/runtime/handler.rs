//! What users register: a handler per work spec, and what it returns.

use std::fmt;
use std::time::Duration;

use crate::completion::Outcome;
use crate::data::Data;
use crate::runtime::Job;

/// Does the work of one work spec's units. Closures
/// `Fn(&Job) -> Result<JobOutcome, JobError>` are handlers.
///
/// A handler runs on one of the runtime's executor threads; it may block.
/// It should look at [`Job::is_cancelled`] (or sleep with [`Job::sleep`])
/// during long work, so that a shutdown, a lost lease or a maximum run
/// time stops it: the runtime cannot stop a thread that ignores them.
pub trait Handler: Send + Sync + 'static {
    /// Works on `job` and says how it went. An `Err` is retried with
    /// backoff, up to the runtime's maximum number of attempts; so is a
    /// panic.
    fn handle(&self, job: &Job) -> Result<JobOutcome, JobError>;
}

impl<F> Handler for F
where
    F: Fn(&Job) -> Result<JobOutcome, JobError> + Send + Sync + 'static,
{
    fn handle(&self, job: &Job) -> Result<JobOutcome, JobError> {
        self(job)
    }
}

/// How a handler's work ended, when it did not end in an error.
#[derive(Debug, Clone, PartialEq)]
pub enum JobOutcome {
    /// Done. With data, the data replaces the attempt's; an `output` key in
    /// it makes units of the work spec's `then`, as
    /// [`Attempt::finish`](crate::Attempt::finish) does.
    Finish(Option<Data>),
    /// Not now: the unit is offered again after the delay. It does not
    /// count against the runtime's maximum number of attempts, but it does
    /// against the work spec's `max_retries`.
    RetryAfter(Duration),
    /// Failed for good, with the reason; the reason is stored under the
    /// data's `traceback` key, where go-coordinate's tools look.
    Fail(String),
    /// The handler ended its attempt itself, with this outcome, together
    /// with its own effects: what a backend's transactional handler
    /// returns (on PostgreSQL, `coordinate_postgres::TransactionalHandler`,
    /// whose writes and outcome commit in one transaction). The runtime
    /// sends nothing for it and counts the outcome; batched completion
    /// does not apply. Build the outcome with [`outcome_of`], the rule the
    /// runtime itself follows.
    Completed(Outcome),
}

/// The outcome the runtime records for `outcome` of `job`: a failure's
/// reason goes under the data's `traceback` key, a retry keeps the data.
/// For handlers that end their attempts themselves
/// ([`JobOutcome::Completed`]).
pub fn outcome_of(job: &Job, outcome: JobOutcome) -> Outcome {
    match outcome {
        JobOutcome::Finish(data) => Outcome::Finish(data),
        JobOutcome::RetryAfter(delay) => Outcome::Retry { data: None, delay },
        JobOutcome::Fail(reason) => Outcome::Fail(with_traceback(job, reason)),
        JobOutcome::Completed(outcome) => outcome,
    }
}

/// The job's data with `traceback` set to `text`; `None` (keep the data as
/// it is) when the data cannot be read.
pub(crate) fn with_traceback(job: &Job, text: String) -> Option<Data> {
    match job.data() {
        Ok(data) => {
            let mut data = data.clone();
            data.insert("traceback".into(), crate::data::Value::Text(text));
            Some(data)
        }
        Err(error) => {
            tracing::warn!(%error, "could not read the unit's data to add its traceback");
            None
        }
    }
}

impl JobOutcome {
    /// Done, keeping the data the unit has.
    pub fn finish() -> Self {
        JobOutcome::Finish(None)
    }

    /// Done, with this data (an `output` key in it chains).
    pub fn finish_with(data: Data) -> Self {
        JobOutcome::Finish(Some(data))
    }

    /// Offered again after `delay`.
    pub fn retry_after(delay: Duration) -> Self {
        JobOutcome::RetryAfter(delay)
    }

    /// Failed for good, for `reason`.
    pub fn fail(reason: impl Into<String>) -> Self {
        JobOutcome::Fail(reason.into())
    }
}

/// A handler's error: anything that converts into a boxed error (every
/// `std::error::Error`, `anyhow::Error`, a `String` or `&str`), so `?`
/// works in handlers.
pub struct JobError {
    source: Box<dyn std::error::Error + Send + Sync>,
}

impl JobError {
    /// Wraps an error.
    pub fn new(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        JobError {
            source: error.into(),
        }
    }

    /// The error itself.
    pub fn source(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self.source.as_ref()
    }

    /// The error and each of its causes, joined by `: `: what goes into
    /// the data's `traceback`.
    pub fn message(&self) -> String {
        let mut message = self.source.to_string();
        let mut cause = self.source.source();
        while let Some(error) = cause {
            message.push_str(": ");
            message.push_str(&error.to_string());
            cause = error.source();
        }
        message
    }
}

impl<E: Into<Box<dyn std::error::Error + Send + Sync>>> From<E> for JobError {
    fn from(error: E) -> Self {
        JobError::new(error)
    }
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl fmt::Debug for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("JobError").field(&self.source).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Outer(std::io::Error);

    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("could not fetch")
        }
    }

    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn messages_carry_the_whole_chain() {
        let error = JobError::from(Outer(std::io::Error::other("connection reset")));
        assert_eq!(error.message(), "could not fetch: connection reset");
        assert_eq!(JobError::from("plain").to_string(), "plain");
    }

    #[test]
    fn question_mark_converts_errors() {
        fn handler() -> Result<JobOutcome, JobError> {
            let number: u32 = "x".parse()?;
            Ok(JobOutcome::retry_after(Duration::from_secs(number.into())))
        }
        assert!(handler().unwrap_err().message().contains("invalid digit"));
    }
}
