//! A worker runtime handler whose own writes and its unit's outcome commit
//! in one transaction (feature `runtime`): the effect happens exactly once.
//!
//! The runtime opens nothing itself: this handler takes a connection from
//! the coordinate's pool, opens a transaction, runs the function with it,
//! ends the attempt in the same transaction ([`in_transaction`](crate::in_transaction)),
//! and commits; the runtime is told with
//! [`JobOutcome::Completed`] and sends nothing. Whatever goes wrong before
//! the commit rolls the handler's writes back with it:
//!
//! - the function returns an error (or panics): the runtime retries the
//!   unit with backoff, as for any handler;
//! - the lease was lost before the commit (someone else took the unit):
//!   the writes are gone, and the runtime counts a lost lease when its own
//!   answer is refused;
//! - the database fails: as an error, retried.
//!
//! Batched completion does not apply to these handlers: each result
//! commits with its own transaction. The pool needs a connection per
//! executor running such a handler, beside the runtime's own (build the
//! coordinate with a pool of at least the concurrency plus two).
//!
//! ```no_run
//! use coordinate_api::runtime::{JobOutcome, Runtime};
//! use coordinate_api::Coordinate;
//! use coordinate_postgres::diesel::RunQueryDsl;
//! use coordinate_postgres::{PostgresCoordinate, TransactionalHandler};
//!
//! fn main() -> anyhow::Result<()> {
//!     let coordinate = PostgresCoordinate::builder(&std::env::var("DATABASE_URL")?)
//!         .pool_size(10)
//!         .build()?;
//!     let handler = TransactionalHandler::new(&coordinate, |job, conn| {
//!         coordinate_postgres::diesel::sql_query("INSERT INTO sent (unit) VALUES ($1)")
//!             .bind::<coordinate_postgres::diesel::sql_types::Text, _>(job.work_unit_name())
//!             .execute(conn)?;
//!         Ok(JobOutcome::finish())
//!     });
//!     let runtime = Runtime::builder(coordinate.namespace("shop")?)
//!         .handler("emails", handler)
//!         .concurrency(4)
//!         .start()?;
//!     runtime.wait();
//!     Ok(())
//! }
//! ```

use std::any::Any;
use std::sync::Arc;

use coordinate_api::runtime::{outcome_of, Handler, Job, JobError, JobOutcome};
use coordinate_api::{downcast, Completion};
use diesel::pg::PgConnection;
use diesel::Connection;

use crate::coordinate::PostgresCoordinate;
use crate::db::shared::Shared;
use crate::handle::attempt::PgAttempt;

/// A handler whose function writes through the connection it is given,
/// inside the transaction in which its unit's outcome is recorded.
pub struct TransactionalHandler<F> {
    shared: Arc<Shared>,
    work: F,
}

impl<F> TransactionalHandler<F>
where
    F: Fn(&Job, &mut PgConnection) -> Result<JobOutcome, JobError> + Send + Sync + 'static,
{
    /// A handler running `work` on connections of `coordinate`'s pool.
    pub fn new(coordinate: &PostgresCoordinate, work: F) -> Self {
        TransactionalHandler {
            shared: coordinate.shared.clone(),
            work,
        }
    }
}

/// Why a handler's transaction rolled back.
enum RolledBack {
    Handler(JobError),
    Store(coordinate_api::Error),
    Driver(diesel::result::Error),
}

impl From<diesel::result::Error> for RolledBack {
    fn from(error: diesel::result::Error) -> Self {
        RolledBack::Driver(error)
    }
}

impl<F> Handler for TransactionalHandler<F>
where
    F: Fn(&Job, &mut PgConnection) -> Result<JobOutcome, JobError> + Send + Sync + 'static,
{
    fn handle(&self, job: &Job) -> Result<JobOutcome, JobError> {
        let attempt =
            downcast::<PgAttempt>(job.attempt().as_ref() as &dyn Any).map_err(JobError::new)?;
        let namespace = &attempt.worker.namespace;
        let mut conn = self.shared.connection().map_err(JobError::new)?;
        let committed = conn.transaction(|conn| {
            let outcome = (self.work)(job, conn).map_err(RolledBack::Handler)?;
            let outcome = outcome_of(job, outcome);
            let completion = Completion::new(job.attempt().clone(), outcome.clone());
            namespace
                .complete_on(conn, std::slice::from_ref(&completion))
                .and_then(|mut answers| answers.pop().unwrap_or(Ok(())))
                .map_err(RolledBack::Store)?;
            Ok(outcome)
        });
        match committed {
            Ok(outcome) => Ok(JobOutcome::Completed(outcome)),
            Err(RolledBack::Handler(error)) => Err(error),
            Err(RolledBack::Store(error)) => Err(JobError::new(error)),
            Err(RolledBack::Driver(error)) => Err(JobError::new(error)),
        }
    }
}
