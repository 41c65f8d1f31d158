//! What the backend logs through `tracing`, captured for the whole
//! process (the pool opens connections on threads of its own): failed
//! connects, connecting, migrations, lost connections and their
//! replacement, an exhausted pool and pruning, all with connection
//! strings that carry a password, which must never show: the server's
//! own (`cargo xtask conformance` gives its server a random one) and a
//! wrong one.

mod common;

use std::net::TcpListener;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::{spec, terminate_sessions, unique, FreshDatabase, Params};
use coordinate_api::{BackendErrorKind, Coordinate, Data, Namespace, PruneRequest, WorkUnitMeta};
use coordinate_postgres::test_support::CapturedLogs;
use coordinate_postgres::PostgresCoordinate;
use diesel::pg::PgConnection;
use diesel::sql_types::Text;
use diesel::{sql_query, RunQueryDsl};

/// A password the server rejects (or, trusting its clients, ignores);
/// its pieces must not appear in the log either.
const WRONG: &str = "Tr0ub4dor-and-3-horses";

/// The server's password, or [`WRONG`] for a server that trusts its
/// clients and so accepts it: every connection string here carries one.
fn password() -> String {
    let own = Params::get().password;
    if own.is_empty() {
        WRONG.to_owned()
    } else {
        own
    }
}

/// The process's capture, installed once (test runners may run the tests
/// of this file in one process).
fn logs() -> &'static CapturedLogs {
    static LOGS: OnceLock<CapturedLogs> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = CapturedLogs::new();
        tracing::subscriber::set_global_default(logs.clone())
            .expect("no other subscriber in this test process");
        logs
    })
}

/// The test server's URL for `dbname`, with `password` and an
/// application name to find its sessions by.
fn url_with(password: &str, dbname: Option<&str>, application: &str) -> String {
    let url = Params {
        password: password.into(),
        ..Params::get()
    }
    .url(dbname);
    common::with_application_name(&url, application)
}

/// Waits until a captured line contains `text`, doing `poke` meanwhile.
fn wait_for_line(text: &str, mut poke: impl FnMut()) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(line) = logs().lines().into_iter().find(|l| l.contains(text)) {
            return line;
        }
        assert!(
            Instant::now() < deadline,
            "no log line with {text:?}; the log:\n{}",
            logs().lines().join("\n")
        );
        poke();
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Nothing captured holds a password or a piece of the wrong one.
fn assert_no_password() {
    let lines = logs().lines();
    assert!(!lines.is_empty());
    let own = password();
    for line in &lines {
        for piece in [own.as_str(), WRONG, "Tr0ub4dor", "3-horses"] {
            assert!(!line.contains(piece), "a password shows in {line:?}");
        }
    }
}

/// Sessions of `application` waiting for a lock.
fn waiting_on_locks(admin: &mut PgConnection, application: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        count: i64,
    }
    sql_query(
        "SELECT count(*) AS count FROM pg_stat_activity \
          WHERE application_name = $1 AND wait_event_type = 'Lock'",
    )
    .bind::<Text, _>(application)
    .get_result::<Count>(admin)
    .expect("pg_stat_activity")
    .count
}

#[test]
fn a_password_never_reaches_the_log() {
    logs();
    let application = unique("logs");

    // A server that is down: the connect fails, and says so.
    let closed = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let down = format!("postgres://postgres:{WRONG}@127.0.0.1:{closed}/postgres");
    let error = PostgresCoordinate::builder(&down)
        .connection_timeout(Duration::from_secs(2))
        .build()
        .expect_err("nothing listens there");
    assert!(!format!("{error:?} {error:#}").contains(WRONG));
    let failed = wait_for_line("could not connect", || {});
    assert!(
        failed.contains("***"),
        "the connection shows, redacted: {failed}"
    );

    // A wrong password: refused by a server that checks (a trusting one
    // lets it in; either way nothing may show it).
    let wrong = url_with(WRONG, None, &application);
    if let Err(error) = PostgresCoordinate::builder(&wrong).pool_size(1).build() {
        assert!(!format!("{error:?} {error:#}").contains(WRONG));
    }

    // A fresh database: connecting migrates it, and says so.
    let database = FreshDatabase::new("coordinate_logs");
    let url = url_with(&password(), Some(&database.name), &application);
    let coordinate = PostgresCoordinate::builder(&url)
        .pool_size(1)
        .connection_timeout(Duration::from_secs(1))
        .build()
        .expect("connect");
    wait_for_line("applied a migration", || {});
    let connected = wait_for_line("connected to PostgreSQL", || {});
    assert!(connected.contains("***"), "{connected}");

    // The server ends our session: the next call fails, the loss is
    // logged, and the pool's replacement is too.
    let namespace = coordinate.namespace("logs").expect("namespace");
    let mut admin = database.connection();
    assert!(terminate_sessions(&mut admin, &application) >= 1);
    let lost = namespace
        .work_spec_names()
        .expect_err("the session was ended");
    assert_eq!(
        lost.backend_kind(),
        Some(BackendErrorKind::Unavailable),
        "{lost:?}"
    );
    wait_for_line("lost a database connection", || {});
    // Calls of one statement (no transaction) must not get the dead
    // session again: the pool replaces it.
    wait_for_line("database connection re-established", || {
        let _ = namespace.work_spec_names();
    });
    namespace.work_spec_names().expect("a new session");

    // One caller holds the only connection, waiting for a row lock: the
    // next one finds the pool exhausted.
    let work_spec = namespace.set_work_spec(spec("s", &[])).expect("spec");
    let unit = work_spec
        .add_work_unit("u", Data::new(), WorkUnitMeta::default())
        .expect("unit");
    let mut locker = database.connection();
    sql_query("BEGIN").execute(&mut locker).unwrap();
    sql_query("SELECT id FROM work_unit FOR UPDATE")
        .execute(&mut locker)
        .unwrap();
    std::thread::scope(|scope| {
        let holder = scope.spawn(|| unit.set_priority(1.0));
        let deadline = Instant::now() + Duration::from_secs(20);
        while waiting_on_locks(&mut admin, &application) == 0 {
            assert!(Instant::now() < deadline, "the holder never waited");
            std::thread::sleep(Duration::from_millis(20));
        }
        let busy = namespace.work_spec_names();
        sql_query("COMMIT").execute(&mut locker).unwrap();
        assert_eq!(
            busy.expect_err("no connection was free").backend_kind(),
            Some(BackendErrorKind::PoolExhausted)
        );
        holder.join().unwrap().expect("the holder goes on");
    });
    wait_for_line("connection pool exhausted", || {});

    // Pruning reports its batches and its total.
    let request = PruneRequest::default().finished_before(chrono::Utc::now());
    namespace.prune(&request).expect("prune");
    wait_for_line("pruned history", || {});

    assert_no_password();
}

#[test]
fn migrating_with_a_password_logs_it_redacted() {
    logs();
    let database = FreshDatabase::new("coordinate_logs_upgrade");
    let url = url_with(&password(), Some(&database.name), &unique("upgrade"));
    coordinate_postgres::upgrade(&url).expect("upgrade");
    coordinate_postgres::drop(&url).expect("drop");
    wait_for_line("reverted a migration", || {});
    // A connect that fails in libpq itself: a missing database.
    let missing = url_with(&password(), Some("no_such_database_here"), "missing");
    assert!(coordinate_postgres::upgrade(&missing).is_err());
    assert_no_password();
}

/// The memory backend logs its pruning too (a namespace is the same
/// trait object either way).
#[test]
fn memory_pruning_is_logged() {
    logs();
    let coordinate = coordinate_memory::MemoryCoordinate::new();
    let namespace: std::sync::Arc<dyn Namespace> = coordinate.namespace("logs").unwrap();
    namespace
        .prune(&PruneRequest::default().failed_before(chrono::Utc::now()))
        .unwrap();
    let line = wait_for_line("pruned history", || {});
    assert!(line.starts_with("DEBUG"), "{line}");
}
