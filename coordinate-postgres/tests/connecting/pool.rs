//! More callers than pool connections: the extra caller waits up to the
//! configured timeout and then gets a clear error, never hangs; the pool
//! serves everyone again once connections come back.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use coordinate_api::{BackendErrorKind, Coordinate, Data, Error, WorkUnitMeta};
use coordinate_postgres::test_support::database_url;
use coordinate_postgres::{ConnectError, ConnectErrorKind, PostgresCoordinate};
use diesel::pg::PgConnection;
use diesel::sql_types::{BigInt, Integer, Text};
use diesel::{sql_query, Connection, QueryableByName, RunQueryDsl};

use crate::common::{spec, unique};

const TIMEOUT: Duration = Duration::from_secs(1);

#[derive(QueryableByName)]
struct Number {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Pid {
    #[diesel(sql_type = Integer)]
    pid: i32,
}

/// Sessions waiting, directly or behind another waiter, for a lock that
/// `pid` holds. (The second updater of a row waits for the first.)
fn blocked_by(conn: &mut PgConnection, pid: i32) -> i64 {
    sql_query(
        "WITH RECURSIVE chain (pid) AS (SELECT $1 UNION SELECT a.pid \
         FROM pg_stat_activity a, chain c WHERE c.pid = ANY (pg_blocking_pids(a.pid))) \
         SELECT count(*) - 1 AS n FROM chain",
    )
    .bind::<Integer, _>(pid)
    .get_result::<Number>(conn)
    .expect("query pg_stat_activity")
    .n
}

#[test]
fn a_caller_beyond_the_pool_gets_a_timeout_error_not_a_hang() {
    let coordinate = PostgresCoordinate::builder(&database_url())
        .pool_size(2)
        .connection_timeout(TIMEOUT)
        .build()
        .unwrap();
    let name = unique("pool");
    let namespace = coordinate.namespace(&name).unwrap();
    let work_spec = namespace.set_work_spec(spec("s", &[])).unwrap();
    let unit = work_spec
        .add_work_unit("u", Data::new(), WorkUnitMeta::default())
        .unwrap();

    // Another session locks the unit's row, so that two callers updating
    // it hold both pool connections while they wait.
    let mut locker = PgConnection::establish(&database_url()).unwrap();
    let mut observer = PgConnection::establish(&database_url()).unwrap();
    let locker_pid = sql_query("SELECT pg_backend_pid() AS pid")
        .get_result::<Pid>(&mut locker)
        .unwrap()
        .pid;
    sql_query("BEGIN").execute(&mut locker).unwrap();
    sql_query(
        "SELECT u.id FROM work_unit u JOIN work_spec s ON s.id = u.work_spec_id \
         JOIN namespace n ON n.id = s.namespace_id WHERE n.name = $1 FOR UPDATE OF u",
    )
    .bind::<Text, _>(&name)
    .execute(&mut locker)
    .unwrap();

    std::thread::scope(|scope| {
        let holders: Vec<_> = (0..2)
            .map(|i| {
                let unit = unit.clone();
                scope.spawn(move || unit.set_priority(f64::from(i)))
            })
            .collect();
        let waited = Instant::now();
        while blocked_by(&mut observer, locker_pid) < 2 {
            if waited.elapsed() > Duration::from_secs(20) {
                // Let the callers go before failing, or the scope waits.
                sql_query("COMMIT").execute(&mut locker).unwrap();
                panic!("the two callers never blocked on the row lock");
            }
            std::thread::sleep(Duration::from_millis(20));
        }

        // The pool says so: both connections open, none idle.
        let state = coordinate.pool_state();
        assert_eq!(
            (state.connections, state.idle_connections, state.max_size),
            (2, 0, 2)
        );

        // Both connections are busy: a third caller must give up after
        // about the timeout. Run it on a thread so a hang fails the test
        // instead of stalling it.
        let (sender, receiver) = mpsc::channel();
        let third = namespace.clone();
        scope.spawn(move || {
            let started = Instant::now();
            let result = third.work_spec_names();
            let _ = sender.send((result, started.elapsed()));
        });
        let outcome = receiver.recv_timeout(TIMEOUT * 10);
        sql_query("COMMIT").execute(&mut locker).unwrap();
        let (result, elapsed) = outcome.expect("the third caller hung past 10x the timeout");
        let error = result.expect_err("no connection was free, yet the call succeeded");
        assert!(
            matches!(&error, Error::Backend { kind: BackendErrorKind::PoolExhausted, source }
                if source.downcast_ref::<ConnectError>().map(ConnectError::kind)
                    == Some(ConnectErrorKind::PoolExhausted)),
            "expected a pool-exhausted connection error, got {error:?}"
        );
        assert!(error.is_transient(), "a busy pool is worth waiting for");
        // The cause says how: it is the error's source, not its own text.
        let message = std::error::Error::source(&error)
            .expect("a cause")
            .to_string();
        assert!(
            message.contains("stayed busy for the connection timeout"),
            "the error should say the pool stayed busy: {message}"
        );
        assert!(
            elapsed >= TIMEOUT.mul_f64(0.9) && elapsed < TIMEOUT * 5,
            "gave up after {elapsed:?}, timeout {TIMEOUT:?}"
        );
        eprintln!("after {elapsed:?}: {message}");

        for holder in holders {
            holder.join().unwrap().expect("the blocked callers finish");
        }
    });

    // The pool recovers by itself.
    assert_eq!(namespace.work_spec_names().unwrap(), vec!["s".to_owned()]);
    namespace.destroy().unwrap();
}
