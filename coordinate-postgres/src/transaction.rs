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

use coordinate_api::{Error, Result};
use diesel::pg::PgConnection;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use rand::Rng;

use crate::coordinate::Shared;
use crate::error::{conflicts_exhausted, database, is_conflict};

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
    /// relies on row locks instead of a snapshot (see `claim.rs`).
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
        crate::error::unreadable("a row the coordinate needed is missing".to_owned())
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
        match outcome {
            Ok(value) => return Ok(value),
            Err(TxError::Db(error)) if is_conflict(&error) && tries < MAX_TRIES => {
                pause(tries);
            }
            Err(TxError::Retry) if tries < MAX_TRIES => pause(tries),
            Err(error) => return Err(into_api(error, subject)),
        }
    }
}

/// Sleeps a random time that grows with the number of tries.
fn pause(tries: u32) {
    let ceiling = Duration::from_millis(1u64 << tries.min(6)).min(MAX_BACKOFF);
    let micros = rand::rng().random_range(0..=ceiling.as_micros() as u64);
    std::thread::sleep(Duration::from_micros(micros));
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
mod tests {
    use super::*;
    use crate::namespace::PgNamespace;
    use crate::test_support::database_url;
    use crate::PostgresCoordinate;
    use coordinate_api::{BackendErrorKind, ObjectKind};
    use diesel::sql_types::Integer;
    use diesel::Connection;
    use diesel::{sql_query, RunQueryDsl};
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Barrier;

    /// A two-row table of this test process, dropped again when the guard
    /// goes, also when the test fails half way.
    struct ProbeTable {
        name: String,
        /// A session of its own, outside the coordinate's pool.
        other: PgConnection,
    }

    impl ProbeTable {
        fn new(prefix: &str) -> Self {
            let name = format!("{prefix}_{}", std::process::id());
            let mut other = PgConnection::establish(&database_url()).unwrap();
            let create = format!(
                "CREATE TABLE IF NOT EXISTS {name} (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)"
            );
            sql_query(create).execute(&mut other).unwrap();
            // From here on the table exists, so Drop must run: build the
            // guard before anything else can fail.
            let mut table = ProbeTable { name, other };
            sql_query(format!(
                "INSERT INTO {} VALUES (1, 0), (2, 0) ON CONFLICT (id) DO UPDATE SET value = 0",
                table.name
            ))
            .execute(&mut table.other)
            .unwrap();
            table
        }

        /// The value of row `id`, read by the other session.
        fn value(&mut self, id: i32) -> i32 {
            let query = format!("SELECT value FROM {} WHERE id = $1", self.name);
            let row: Value = sql_query(query)
                .bind::<Integer, _>(id)
                .get_result(&mut self.other)
                .unwrap();
            row.value
        }
    }

    impl Drop for ProbeTable {
        fn drop(&mut self) {
            // Never panic here: a panic while a failed test unwinds aborts
            // the process and hides the real failure.
            let drop = format!("DROP TABLE IF EXISTS {}", self.name);
            if let Err(error) = sql_query(drop).execute(&mut self.other) {
                eprintln!("could not drop {}: {error}", self.name);
            }
        }
    }

    fn coordinate() -> PostgresCoordinate {
        PostgresCoordinate::new(&database_url()).unwrap()
    }

    #[derive(diesel::QueryableByName)]
    struct Value {
        #[diesel(sql_type = Integer)]
        value: i32,
    }

    #[test]
    fn serialization_failures_are_retried() {
        let coordinate = coordinate();
        let mut table = ProbeTable::new("retry_probe");
        let name = table.name.clone();
        let calls = AtomicU32::new(0);
        let result = with_retry(&*coordinate.shared, Isolation::RepeatableRead, |conn| {
            // Take the snapshot, then let another session change the row.
            let seen: Value =
                sql_query(format!("SELECT value FROM {name} WHERE id = 1")).get_result(conn)?;
            if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                sql_query(format!("UPDATE {name} SET value = value + 10 WHERE id = 1"))
                    .execute(&mut table.other)?;
            }
            // Fails with 40001 on the first try: the row changed after the
            // snapshot was taken.
            sql_query(format!("UPDATE {name} SET value = $1 + 1 WHERE id = 1"))
                .bind::<Integer, _>(seen.value)
                .execute(conn)?;
            Ok(seen.value)
        });
        assert_eq!(
            result.unwrap(),
            10,
            "the retry saw the other session's write"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert_eq!(table.value(1), 11, "no update was lost");
    }

    #[test]
    fn a_conflict_on_every_try_is_a_transient_conflict() {
        let coordinate = coordinate();
        let mut table = ProbeTable::new("conflict_probe");
        let name = table.name.clone();
        let calls = AtomicU32::new(0);
        let result = with_retry(&*coordinate.shared, Isolation::RepeatableRead, |conn| {
            calls.fetch_add(1, Ordering::SeqCst);
            sql_query(format!("SELECT value FROM {name} WHERE id = 1")).execute(conn)?;
            // Every try loses the race against the other session.
            sql_query(format!("UPDATE {name} SET value = value + 1 WHERE id = 1"))
                .execute(&mut table.other)?;
            sql_query(format!("UPDATE {name} SET value = 0 WHERE id = 1")).execute(conn)?;
            Ok(())
        });
        let error = result.unwrap_err();
        assert_eq!(
            error.backend_kind(),
            Some(BackendErrorKind::Conflict),
            "{error:?}"
        );
        assert!(error.is_transient());
        assert_eq!(calls.load(Ordering::SeqCst), MAX_TRIES);
        // The driver's error stays reachable as the cause.
        let cause = std::error::Error::source(&error).expect("a cause");
        assert!(cause.downcast_ref::<DieselError>().is_some(), "{cause:?}");
    }

    #[test]
    fn retries_our_logic_asked_for_end_in_a_conflict() {
        let coordinate = coordinate();
        let calls = AtomicU32::new(0);
        let result: Result<()> = with_retry(&*coordinate.shared, Isolation::Autocommit, |_| {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(TxError::Retry)
        });
        let error = result.unwrap_err();
        assert_eq!(error.backend_kind(), Some(BackendErrorKind::Conflict));
        assert_eq!(calls.load(Ordering::SeqCst), MAX_TRIES);
    }

    /// Deadlocks are recognised by PostgreSQL's English text (diesel does
    /// not pass on SQLSTATE 40P01, see `error.rs`): this pins that the
    /// test server's text is the one looked for, with a real deadlock.
    #[test]
    fn deadlocks_are_retried() {
        let coordinate = coordinate();
        let mut table = ProbeTable::new("deadlock_probe");
        let barrier = Barrier::new(2);
        let calls = AtomicU32::new(0);
        std::thread::scope(|scope| {
            for first in [1, 2] {
                let (coordinate, barrier, calls, name) =
                    (&coordinate, &barrier, &calls, &table.name);
                scope.spawn(move || {
                    with_retry(&*coordinate.shared, Isolation::ReadCommitted, |conn| {
                        let tries = calls.fetch_add(1, Ordering::SeqCst);
                        let bump = format!("UPDATE {name} SET value = value + 1 WHERE id = $1");
                        sql_query(&bump).bind::<Integer, _>(first).execute(conn)?;
                        if tries < 2 {
                            // Both sessions hold one row and want the other's.
                            barrier.wait();
                        }
                        sql_query(&bump)
                            .bind::<Integer, _>(3 - first)
                            .execute(conn)?;
                        Ok(())
                    })
                    .unwrap();
                });
            }
        });
        assert_eq!(
            calls.load(Ordering::SeqCst),
            3,
            "exactly one session retried"
        );
        assert_eq!(table.value(1) + table.value(2), 4);
    }

    #[test]
    fn a_statement_timeout_is_a_transient_timeout() {
        let coordinate = coordinate();
        let result = with_retry(&*coordinate.shared, Isolation::ReadCommitted, |conn| {
            sql_query("SET LOCAL statement_timeout = '20ms'").execute(conn)?;
            sql_query("SELECT pg_sleep(5)").execute(conn)?;
            Ok(())
        });
        let error = result.unwrap_err();
        assert_eq!(
            error.backend_kind(),
            Some(BackendErrorKind::Timeout),
            "{error:?}"
        );
        assert!(error.is_transient());
    }

    /// What `pg_terminate_backend` (and a server shutting down) does to a
    /// session in use: the next statement fails, and that is worth trying
    /// again on another connection.
    #[test]
    fn a_terminated_session_is_unavailable() {
        #[derive(diesel::QueryableByName)]
        struct Pid {
            #[diesel(sql_type = Integer)]
            pid: i32,
        }
        let coordinate = coordinate();
        let mut admin = PgConnection::establish(&database_url()).unwrap();
        let result = with_retry(&*coordinate.shared, Isolation::Autocommit, |conn| {
            let own: Pid = sql_query("SELECT pg_backend_pid() AS pid").get_result(conn)?;
            // Waits up to 5 s for the session to end.
            sql_query("SELECT pg_terminate_backend($1, 5000)")
                .bind::<Integer, _>(own.pid)
                .execute(&mut admin)?;
            sql_query("SELECT 1").execute(conn)?;
            Ok(())
        });
        let error = result.unwrap_err();
        assert_eq!(
            error.backend_kind(),
            Some(BackendErrorKind::Unavailable),
            "{error:?}"
        );
        assert!(error.is_transient());
    }

    #[test]
    fn foreign_key_violations_mean_the_subject_is_gone() {
        let coordinate = coordinate();
        // A handle to a namespace that does not exist.
        let namespace = PgNamespace::new(coordinate.shared.clone(), -1, "fk-gone-probe".into());
        let result = with_retry(&namespace, Isolation::Autocommit, |conn| {
            sql_query("INSERT INTO worker (namespace_id, name, active, mode, data, expiration, last_update) VALUES (-1, 'x', true, '', '', '2020-01-01Z', '2020-01-01Z')")
                .execute(conn)?;
            Ok(())
        });
        assert!(
            matches!(
                &result,
                Err(Error::Gone { kind: ObjectKind::Namespace, name }) if name == "fk-gone-probe"
            ),
            "{result:?}"
        );
    }
}
