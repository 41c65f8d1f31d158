//! Tests of `with_retry` against the test server: retries, conflicts,
//! timeouts, lost sessions, and the errors they end in.

use super::*;
use crate::handle::namespace::PgNamespace;
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
    let logs = crate::test_support::CapturedLogs::new();
    let _logging = tracing::subscriber::set_default(logs.clone());
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
    let retried: Vec<String> = logs
        .lines()
        .into_iter()
        .filter(|line| line.contains("transaction retried"))
        .collect();
    assert_eq!(retried.len(), 1, "{retried:?}");
    assert!(
        retried[0].starts_with("DEBUG")
            && retried[0].contains("tries=1")
            && retried[0].contains("why=serialization failure"),
        "says why and which try: {retried:?}"
    );
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
            let (coordinate, barrier, calls, name) = (&coordinate, &barrier, &calls, &table.name);
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
    // Two first tries deadlock, so at least one more ran. Usually exactly
    // one more; CI once saw two more (4 calls), for a reason not found.
    // What the test holds to is the retry and that both sessions
    // committed, each exactly once.
    let calls = calls.load(Ordering::SeqCst);
    assert!(calls >= 3, "the deadlock was not retried: {calls} calls");
    assert_eq!(
        table.value(1) + table.value(2),
        4,
        "each session committed once"
    );
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

/// The server process of the session `conn` is.
fn backend_pid(conn: &mut PgConnection) -> diesel::QueryResult<i32> {
    #[derive(diesel::QueryableByName)]
    struct Pid {
        #[diesel(sql_type = Integer)]
        pid: i32,
    }
    Ok(sql_query("SELECT pg_backend_pid() AS pid")
        .get_result::<Pid>(conn)?
        .pid)
}

/// What `pg_terminate_backend` (and a server shutting down) does to a
/// session in use: the next statement fails, and that is worth trying
/// again on another connection.
#[test]
fn a_terminated_session_is_unavailable() {
    let coordinate = coordinate();
    let mut admin = PgConnection::establish(&database_url()).unwrap();
    let result = with_retry(&*coordinate.shared, Isolation::Autocommit, |conn| {
        let own = backend_pid(conn)?;
        // Waits up to 5 s for the session to end.
        sql_query("SELECT pg_terminate_backend($1, 5000)")
            .bind::<Integer, _>(own)
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
    settle(&coordinate);
}

/// Waits (a few seconds at most) until the pool has replaced the dropped
/// session: r2d2 opens it on a background thread nobody joins, and one
/// still inside libpq when the test process exits can crash it (seen as
/// SIGSEGV after the test passed).
fn settle(coordinate: &PostgresCoordinate) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while std::time::Instant::now() < deadline {
        let pool = coordinate.pool_state();
        if pool.connections == pool.max_size {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// A session that died under a statement of its own (no transaction)
/// is not handed out again: with one pooled connection, the next call
/// gets a new session.
#[test]
fn a_terminated_session_is_replaced() {
    let coordinate = PostgresCoordinate::builder(&database_url())
        .pool_size(1)
        .build()
        .unwrap();
    let mut admin = PgConnection::establish(&database_url()).unwrap();
    let own = |conn: &mut PgConnection| -> TxResult<i32> { Ok(backend_pid(conn)?) };
    let first = with_retry(&*coordinate.shared, Isolation::Autocommit, own).unwrap();
    sql_query("SELECT pg_terminate_backend($1, 5000)")
        .bind::<Integer, _>(first)
        .execute(&mut admin)
        .unwrap();
    // A statement this session never prepared: the failure comes from
    // preparing it, which Diesel does not count against the
    // connection (one that ran before would mark it broken itself).
    let lost = with_retry(&*coordinate.shared, Isolation::Autocommit, |conn| {
        let rows: Vec<crate::sql::IdName> = crate::sql::unit::NAMESPACES.prepare().load(conn)?;
        Ok(rows.len())
    })
    .unwrap_err();
    assert_eq!(lost.backend_kind(), Some(BackendErrorKind::Unavailable));
    let second =
        with_retry(&*coordinate.shared, Isolation::Autocommit, own).expect("a new session");
    assert_ne!(first, second);
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
