//! The one way this backend talks to the database: a closure run in a
//! transaction of a chosen isolation level, retried when PostgreSQL reports
//! a serialization failure (40001) or a deadlock (40P01).
//!
//! Retrying is safe because every closure only reads and writes through its
//! connection and computes everything else from what it read; rolling back
//! undoes all of it.

use std::time::Duration;

use coordinate_api::{Error, Result};
use diesel::pg::PgConnection;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use rand::Rng;

use crate::coordinate::Shared;

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

/// Runs `work` on a pooled connection with the given isolation, retrying
/// serialization failures and deadlocks a bounded number of times with a
/// small random pause.
pub(crate) fn with_retry<T>(
    shared: &Shared,
    isolation: Isolation,
    mut work: impl FnMut(&mut PgConnection) -> TxResult<T>,
) -> Result<T> {
    let mut conn = shared.connection()?;
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
            Err(error) => return Err(into_api(error)),
        }
    }
}

/// Whether PostgreSQL aborted the transaction because of a concurrent one,
/// so that running it again can succeed.
pub(crate) fn is_conflict(error: &DieselError) -> bool {
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => true,
        // Diesel has no kind for 40P01; its message is fixed by PostgreSQL.
        DieselError::DatabaseError(_, info) => {
            let message = info.message();
            message.contains("deadlock detected") || message.contains("could not serialize")
        }
        _ => false,
    }
}

/// Sleeps a random time that grows with the number of tries.
fn pause(tries: u32) {
    let ceiling = Duration::from_millis(1u64 << tries.min(6)).min(MAX_BACKOFF);
    let micros = rand::rng().random_range(0..=ceiling.as_micros() as u64);
    std::thread::sleep(Duration::from_micros(micros));
}

/// Maps what is left after retrying onto the API's errors: a missing row or
/// a foreign key pointing at a deleted parent means the object is gone.
fn into_api(error: TxError) -> Error {
    match error {
        TxError::Api(error) => error,
        TxError::Db(DieselError::NotFound) => Error::Gone,
        TxError::Db(DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _)) => {
            Error::Gone
        }
        TxError::Db(error) => Error::backend(error),
        TxError::Retry => Error::backend(format!(
            "gave up after {MAX_TRIES} tries because of concurrent changes"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::database_url;
    use crate::PostgresCoordinate;
    use coordinate_api::Coordinate;
    use diesel::sql_types::Integer;
    use diesel::Connection;
    use diesel::{sql_query, RunQueryDsl};
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Barrier;

    fn setup(table: &str) -> (PostgresCoordinate, PgConnection) {
        let coordinate = PostgresCoordinate::new(&database_url()).unwrap();
        let mut other = PgConnection::establish(&database_url()).unwrap();
        let create = format!(
            "CREATE TABLE IF NOT EXISTS {table} (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)"
        );
        sql_query(create).execute(&mut other).unwrap();
        sql_query(format!(
            "INSERT INTO {table} VALUES (1, 0), (2, 0) ON CONFLICT (id) DO UPDATE SET value = 0"
        ))
        .execute(&mut other)
        .unwrap();
        (coordinate, other)
    }

    #[derive(diesel::QueryableByName)]
    struct Value {
        #[diesel(sql_type = Integer)]
        value: i32,
    }

    #[test]
    fn serialization_failures_are_retried() {
        let table = format!("retry_probe_{}", std::process::id());
        let (coordinate, mut other) = setup(&table);
        let calls = AtomicU32::new(0);
        let result = with_retry(&coordinate.shared, Isolation::RepeatableRead, |conn| {
            // Take the snapshot, then let another session change the row.
            let seen: Value =
                sql_query(format!("SELECT value FROM {table} WHERE id = 1")).get_result(conn)?;
            if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                sql_query(format!(
                    "UPDATE {table} SET value = value + 10 WHERE id = 1"
                ))
                .execute(&mut other)?;
            }
            // Fails with 40001 on the first try: the row changed after the
            // snapshot was taken.
            sql_query(format!("UPDATE {table} SET value = $1 + 1 WHERE id = 1"))
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
        let after: Value = sql_query(format!("SELECT value FROM {table} WHERE id = 1"))
            .get_result(&mut other)
            .unwrap();
        assert_eq!(after.value, 11, "no update was lost");
        sql_query(format!("DROP TABLE {table}"))
            .execute(&mut other)
            .unwrap();
    }

    #[test]
    fn deadlocks_are_retried() {
        let table = format!("deadlock_probe_{}", std::process::id());
        let (coordinate, mut other) = setup(&table);
        let barrier = Barrier::new(2);
        let calls = AtomicU32::new(0);
        std::thread::scope(|scope| {
            for first in [1, 2] {
                let (coordinate, barrier, calls, table) = (&coordinate, &barrier, &calls, &table);
                scope.spawn(move || {
                    with_retry(&coordinate.shared, Isolation::ReadCommitted, |conn| {
                        let tries = calls.fetch_add(1, Ordering::SeqCst);
                        let bump = format!("UPDATE {table} SET value = value + 1 WHERE id = $1");
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
        let total: Value = sql_query(format!("SELECT sum(value)::int4 AS value FROM {table}"))
            .get_result(&mut other)
            .unwrap();
        assert_eq!(total.value, 4);
        sql_query(format!("DROP TABLE {table}"))
            .execute(&mut other)
            .unwrap();
    }

    #[test]
    fn foreign_key_violations_mean_gone() {
        let coordinate = PostgresCoordinate::new(&database_url()).unwrap();
        let namespace = coordinate.namespace("fk-gone-probe").unwrap();
        namespace.destroy().unwrap();
        let result = with_retry(&coordinate.shared, Isolation::Autocommit, |conn| {
            sql_query("INSERT INTO worker (namespace_id, name, active, mode, data, expiration, last_update) VALUES (-1, 'x', true, '', '', '2020-01-01Z', '2020-01-01Z')")
                .execute(conn)?;
            Ok(())
        });
        assert!(matches!(result, Err(Error::Gone)), "{result:?}");
    }
}
