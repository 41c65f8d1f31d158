//! The one way this backend talks to the database: a closure run in a
//! transaction of a chosen isolation level, retried when PostgreSQL reports
//! a serialization failure (40001) or a deadlock (40P01).
//!
//! Retrying is safe because every closure only reads and writes through its
//! connection and computes everything else from what it read; rolling back
//! undoes all of it.
//!
//! What is left after retrying is mapped onto the API's errors here: a
//! missing row or a broken foreign key means the handle's object is gone
//! ([`Subject::gone`]), everything else is sorted by `error.rs`.

use std::time::Duration;

use coordinate_api::{BackendErrorKind, Error, Result};
use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::pg::PgConnection;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use rand::Rng;

use crate::db::error::{conflict, conflicts_exhausted, database};
use crate::db::shared::Shared;

/// Most times one transaction is tried before its conflict is reported.
const MAX_TRIES: u32 = 16;
/// Longest pause between two tries.
const MAX_BACKOFF: Duration = Duration::from_millis(64);

/// How a closure's statements are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Isolation {
    /// One REPEATABLE READ transaction: the default for every
    /// read-modify-write.
    RepeatableRead,
    /// One READ COMMITTED transaction: only for the claim path, which
    /// relies on row locks instead of a snapshot (see the `claim` module).
    ReadCommitted,
    /// No explicit transaction, each statement committing on its own: for
    /// closures that run a single statement, which PostgreSQL makes atomic
    /// by itself (at the server's default isolation, READ COMMITTED).
    Autocommit,
}

/// Failures inside a transaction closure: a database error (which may be
/// retried) or an API error decided by our own logic.
#[derive(Debug)]
pub(crate) enum TxError {
    /// The database refused a statement.
    Db(DieselError),
    /// Our logic rejected the operation; the transaction is rolled back.
    Api(Error),
    /// Our logic saw the effect of a concurrent transaction that PostgreSQL
    /// does not report as an error; roll back and run again.
    Retry,
}

impl From<DieselError> for TxError {
    fn from(error: DieselError) -> Self {
        TxError::Db(error)
    }
}

impl From<Error> for TxError {
    fn from(error: Error) -> Self {
        TxError::Api(error)
    }
}

/// Result of a transaction closure.
pub(crate) type TxResult<T> = std::result::Result<T, TxError>;

/// What a transaction works for: the handle the call was made on, which
/// lends its connection pool and names itself when its row is missing.
pub(crate) trait Subject {
    /// The pool and settings the handle shares.
    fn shared(&self) -> &Shared;
    /// [`Error::Gone`] naming this handle.
    fn gone(&self) -> Error;
}

/// Calls on the coordinate itself (namespaces, summaries) have no handle
/// that could be gone: a missing row there is a broken invariant.
impl Subject for Shared {
    fn shared(&self) -> &Shared {
        self
    }

    fn gone(&self) -> Error {
        crate::db::error::unreadable("a row the coordinate needed is missing".to_owned())
    }
}

/// Runs `work` on a pooled connection of `subject` with the given
/// isolation, retrying serialization failures and deadlocks a bounded
/// number of times with a small random pause.
pub(crate) fn with_retry<T>(
    subject: &(impl Subject + ?Sized),
    isolation: Isolation,
    mut work: impl FnMut(&mut PgConnection) -> TxResult<T>,
) -> Result<T> {
    let mut conn = subject.shared().connection()?;
    let mut tries = 0;
    loop {
        tries += 1;
        let outcome = match isolation {
            Isolation::RepeatableRead => conn
                .build_transaction()
                .repeatable_read()
                .run(|conn| work(conn)),
            Isolation::ReadCommitted => conn
                .build_transaction()
                .read_committed()
                .run(|conn| work(conn)),
            Isolation::Autocommit => work(&mut conn),
        };
        let why = match &outcome {
            Ok(_) => None,
            Err(TxError::Db(error)) => conflict(error),
            Err(TxError::Retry) => Some("a concurrent change our checks saw"),
            Err(TxError::Api(_)) => None,
        };
        match (outcome, why) {
            (Ok(value), _) => return Ok(value),
            (Err(_), Some(why)) if tries < MAX_TRIES => {
                tracing::debug!(tries, max_tries = MAX_TRIES, why, "transaction retried");
                pause(tries);
            }
            (Err(error), why) => {
                if let Some(why) = why {
                    tracing::warn!(tries, why, "transaction gave up: it kept conflicting");
                }
                let error = into_api(error, subject);
                if error.backend_kind() == Some(BackendErrorKind::Unavailable) {
                    // Diesel marks a connection broken only when a
                    // transaction fails on it; after a statement of its
                    // own the pool would hand the dead session out again
                    // and again. Marked, the pool drops it on return and
                    // opens another.
                    AnsiTransactionManager::transaction_manager_status_mut(&mut *conn)
                        .set_in_error();
                    subject.shared().health.lost(&error);
                }
                return Err(error);
            }
        }
    }
}

/// Sleeps a random time that grows with the number of tries.
fn pause(tries: u32) {
    let ceiling = Duration::from_millis(1u64 << tries.min(6)).min(MAX_BACKOFF);
    let micros = rand::rng().random_range(0..=ceiling.as_micros() as u64);
    std::thread::sleep(Duration::from_micros(micros));
}

/// Runs `work` once on the caller's own connection, inside a transaction
/// the caller opened: no transaction of ours, no retry, and the connection
/// is left as it is, the caller's to commit or roll back. Refused when no
/// transaction is open (the statements would each commit on their own).
/// A concurrent change comes back as a transient
/// [`BackendErrorKind::Conflict`], for the caller to roll back and run its
/// transaction again.
pub(crate) fn in_callers_transaction<T>(
    subject: &(impl Subject + ?Sized),
    conn: &mut PgConnection,
    work: impl FnOnce(&mut PgConnection) -> TxResult<T>,
) -> Result<T> {
    let depth = AnsiTransactionManager::transaction_manager_status_mut(conn)
        .transaction_depth()
        .map_err(database)?;
    if depth.is_none() {
        return Err(Error::invalid(
            "connection",
            "no transaction is open on it: call this inside conn.transaction(|conn| …)",
        ));
    }
    work(conn).map_err(|error| match error {
        TxError::Retry => Error::backend(
            BackendErrorKind::Conflict,
            "a concurrent change to the same attempts or units: roll back and run the \
             transaction again",
        ),
        error => into_api(error, subject),
    })
}

/// Maps what is left after retrying onto the API's errors: a missing row or
/// a foreign key pointing at a deleted parent means the subject is gone.
fn into_api(error: TxError, subject: &(impl Subject + ?Sized)) -> Error {
    match error {
        TxError::Api(error) => error,
        TxError::Db(DieselError::NotFound) => subject.gone(),
        TxError::Db(DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _)) => {
            subject.gone()
        }
        TxError::Db(error) => database(error),
        TxError::Retry => conflicts_exhausted(MAX_TRIES),
    }
}

#[cfg(test)]
mod tests;
