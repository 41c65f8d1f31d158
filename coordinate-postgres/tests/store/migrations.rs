//! Migrations up, down and up again, in databases of their own, and
//! go-coordinate's bookkeeping of them (`gorp_migrations`).

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use coordinate_api::Coordinate;
use coordinate_postgres::test_support::go_coordinate_migration_ids;
use coordinate_postgres::PostgresCoordinate;
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz};
use diesel::{sql_query, QueryableByName, RunQueryDsl};

use crate::common::{claim_and_finish, unique, FreshDatabase};

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

/// Tables, sequences, indexes, views and types in `public`, sorted.
fn objects(conn: &mut PgConnection) -> Vec<String> {
    let rows: Vec<Name> = sql_query(
        "SELECT c.relname::text AS name FROM pg_class c \
           JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' \
         UNION ALL \
         SELECT t.typname::text FROM pg_type t \
           JOIN pg_namespace n ON n.oid = t.typnamespace \
          WHERE n.nspname = 'public' AND t.typtype = 'e' \
         ORDER BY 1",
    )
    .load(conn)
    .unwrap();
    rows.into_iter().map(|r| r.name).collect()
}

fn count(conn: &mut PgConnection, query: &str) -> i64 {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        count: i64,
    }
    sql_query(query).get_result::<Count>(conn).unwrap().count
}

/// Exercises the schema a little: every table gets a row.
fn use_it(url: &str) {
    let coordinate = PostgresCoordinate::builder(url)
        .pool_size(2)
        .build()
        .unwrap();
    claim_and_finish(&coordinate, "n");
}

#[test]
fn up_down_up() {
    let database = FreshDatabase::new("coordinate_migrations");
    let mut conn = database.connection();
    assert!(objects(&mut conn).is_empty());

    coordinate_postgres::upgrade(&database.url).unwrap();
    let schema = objects(&mut conn);
    for table in [
        "namespace",
        "work_spec",
        "work_unit",
        "worker",
        "attempt",
        "attempt_status",
    ] {
        assert!(
            schema.iter().any(|o| o == table),
            "{table} missing: {schema:?}"
        );
    }
    assert_both_bookkeepings_complete(&mut conn);
    use_it(&database.url);
    // Upgrading an up-to-date database changes nothing, not even the times
    // go-coordinate's bookkeeping shows.
    let recorded = gorp_records(&mut conn);
    coordinate_postgres::upgrade(&database.url).unwrap();
    assert_eq!(objects(&mut conn), schema);
    assert_eq!(gorp_records(&mut conn), recorded);

    // Down: both bookkeepings forget every migration, and go.
    coordinate_postgres::drop(&database.url).unwrap();
    assert_eq!(objects(&mut conn), Vec::<String>::new());

    coordinate_postgres::upgrade(&database.url).unwrap();
    assert_eq!(objects(&mut conn), schema);
    assert_both_bookkeepings_complete(&mut conn);
    use_it(&database.url);
    coordinate_postgres::drop(&database.url).unwrap();
    assert_eq!(objects(&mut conn), Vec::<String>::new());
}

#[derive(QueryableByName, Debug, PartialEq)]
struct GorpRecord {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    applied_at: Option<DateTime<Utc>>,
}

/// `gorp_migrations` in id order, read the way sql-migrate reads it.
fn gorp_records(conn: &mut PgConnection) -> Vec<GorpRecord> {
    sql_query(SQL_MIGRATE_READS).load(conn).unwrap()
}

/// The statement sql-migrate (as go-coordinate pins it, commit a3e2963)
/// creates its table with, through gorp's PostgreSQL dialect.
const SQL_MIGRATE_CREATES: &str = "create table if not exists \"gorp_migrations\" \
     (\"id\" text not null primary key, \"applied_at\" timestamp with time zone) ;";
/// How sql-migrate lists what it applied (plus an order, for comparing).
const SQL_MIGRATE_READS: &str = "SELECT * FROM \"gorp_migrations\" ORDER BY id";

/// What go-coordinate's `postgres.New()` would run on this database:
/// sql-migrate's plan over go-coordinate's fifteen migrations, worked out
/// the way sql-migrate does (every known id after the newest recorded one,
/// plus any missing id before it).
fn sql_migrate_plan(conn: &mut PgConnection) -> Vec<&'static str> {
    sql_query(SQL_MIGRATE_CREATES).execute(conn).unwrap();
    let recorded: Vec<String> = gorp_records(conn).into_iter().map(|r| r.id).collect();
    let newest = recorded.iter().max();
    go_coordinate_migration_ids()
        .into_iter()
        .filter(|id| {
            let missing = !recorded.iter().any(|r| r == id);
            let after_newest = newest.is_none_or(|newest| *id > newest.as_str());
            missing || after_newest
        })
        .collect()
}

/// Ours lists all 18 migrations, go-coordinate's its 15 with a time each,
/// in a table shaped as sql-migrate makes it; sql-migrate has nothing to do.
fn assert_both_bookkeepings_complete(conn: &mut PgConnection) {
    assert_eq!(
        count(conn, "SELECT count(*) FROM __diesel_schema_migrations"),
        18
    );
    let records = gorp_records(conn);
    let ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, go_coordinate_migration_ids());
    assert!(
        records.iter().all(|r| r.applied_at.is_some()),
        "{records:?}"
    );
    let columns: Vec<Name> = sql_query(
        "SELECT column_name || ' ' || data_type || ' ' || is_nullable AS name \
           FROM information_schema.columns \
          WHERE table_name = 'gorp_migrations' ORDER BY ordinal_position",
    )
    .load(conn)
    .unwrap();
    let columns: Vec<String> = columns.into_iter().map(|c| c.name).collect();
    assert_eq!(
        columns,
        ["id text NO", "applied_at timestamp with time zone YES"]
    );
    assert_eq!(
        count(
            conn,
            "SELECT count(*) FROM pg_constraint \
              WHERE conrelid = 'gorp_migrations'::regclass AND contype = 'p' \
                AND conname = 'gorp_migrations_pkey'"
        ),
        1
    );
    assert_eq!(sql_migrate_plan(conn), Vec::<&str>::new());
}

#[test]
fn go_coordinate_bookkeeping_that_is_missing_or_empty_is_filled_in() {
    let database = FreshDatabase::new("coordinate_gorp_filled");
    let mut conn = database.connection();
    // A go-coordinate start that failed right after making its table.
    sql_query(SQL_MIGRATE_CREATES).execute(&mut conn).unwrap();
    assert_eq!(sql_migrate_plan(&mut conn).len(), 15);
    coordinate_postgres::upgrade(&database.url).unwrap();
    assert_both_bookkeepings_complete(&mut conn);

    // Emptied again (the same failure, later), then a coordinate connects.
    sql_query("DELETE FROM gorp_migrations")
        .execute(&mut conn)
        .unwrap();
    PostgresCoordinate::new(&database.url).unwrap();
    assert_both_bookkeepings_complete(&mut conn);

    // A database an earlier version of this crate migrated has no such
    // table at all.
    sql_query("DROP TABLE gorp_migrations")
        .execute(&mut conn)
        .unwrap();
    PostgresCoordinate::new(&database.url).unwrap();
    assert_both_bookkeepings_complete(&mut conn);
}

#[test]
fn losing_a_race_to_go_coordinate_is_tried_again() {
    let database = FreshDatabase::new("coordinate_gorp_race");
    // go-coordinate, through sql-migrate: its table, then its first
    // migration and the record of it in one transaction, left open while
    // we start.
    let mut go = database.connection();
    sql_query(SQL_MIGRATE_CREATES).execute(&mut go).unwrap();
    go.batch_execute("BEGIN").unwrap();
    go.batch_execute(include_str!(
        "../../migrations/2015-09-27-000000_core/up.sql"
    ))
    .unwrap();
    sql_query(
        "INSERT INTO gorp_migrations (id, applied_at) \
         VALUES ('20150927-core.sql', '2001-02-03T04:05:06Z')",
    )
    .execute(&mut go)
    .unwrap();

    std::thread::scope(|scope| {
        let ours = scope.spawn(|| coordinate_postgres::upgrade(&database.url));
        // Ours reaches the same CREATE and waits for go-coordinate's
        // transaction; go-coordinate commits, and ours fails on the name.
        let mut watcher = database.connection();
        let deadline = Instant::now() + Duration::from_secs(30);
        while count(
            &mut watcher,
            "SELECT count(*) FROM pg_stat_activity \
              WHERE datname = current_database() AND wait_event_type = 'Lock'",
        ) == 0
        {
            assert!(Instant::now() < deadline, "our migration never waited");
            std::thread::sleep(Duration::from_millis(10));
        }
        go.batch_execute("COMMIT").unwrap();
        ours.join()
            .unwrap()
            .expect("the loser of the race tries again");
    });

    let mut conn = database.connection();
    assert_both_bookkeepings_complete(&mut conn);
    // go-coordinate's record of the migration it ran is its own.
    let core = &gorp_records(&mut conn)[0];
    assert_eq!(core.id, "20150927-core.sql");
    assert_eq!(
        core.applied_at.map(|t| t.to_rfc3339()).as_deref(),
        Some("2001-02-03T04:05:06+00:00")
    );
    use_it(&database.url);
}

/// A session ended while migrating (a restart, or a fault injector) is
/// an outage, not a broken schema: the error is transient, so a worker
/// starting up waits and tries again, and the next try migrates.
#[test]
fn a_migration_whose_session_is_terminated_is_worth_retrying() {
    let database = FreshDatabase::new("coordinate_migrate_cut");
    // Someone else's open transaction holds the first table's name, so
    // our migration waits on it, where the test can find it.
    let mut other = database.connection();
    other.batch_execute("BEGIN").unwrap();
    other
        .batch_execute(include_str!(
            "../../migrations/2015-09-27-000000_core/up.sql"
        ))
        .unwrap();

    let error = std::thread::scope(|scope| {
        let ours = scope.spawn(|| PostgresCoordinate::new(&database.url).map(|_| ()));
        let mut watcher = database.connection();
        let deadline = Instant::now() + Duration::from_secs(30);
        while count(
            &mut watcher,
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
              WHERE datname = current_database() AND wait_event_type = 'Lock'",
        ) == 0
        {
            assert!(Instant::now() < deadline, "our migration never waited");
            std::thread::sleep(Duration::from_millis(10));
        }
        ours.join()
            .unwrap()
            .expect_err("its session was terminated")
    });
    assert!(error.is_transient(), "not worth retrying: {error:?}");
    assert_eq!(
        error.backend_kind(),
        Some(coordinate_api::BackendErrorKind::Unavailable),
        "{error:?}"
    );

    other.batch_execute("ROLLBACK").unwrap();
    use_it(&database.url);
}

#[test]
fn drop_leaves_other_migrations_alone() {
    let database = FreshDatabase::new("coordinate_shared_bookkeeping");
    let mut conn = database.connection();
    coordinate_postgres::upgrade(&database.url).unwrap();
    // Another application's Diesel migration in the same database.
    sql_query("CREATE TABLE app_table (id INTEGER)")
        .execute(&mut conn)
        .unwrap();
    sql_query("INSERT INTO __diesel_schema_migrations (version) VALUES ('99990101000000')")
        .execute(&mut conn)
        .unwrap();
    coordinate_postgres::drop(&database.url).unwrap();
    assert_eq!(
        objects(&mut conn),
        [
            "__diesel_schema_migrations",
            "__diesel_schema_migrations_pkey",
            "app_table"
        ]
    );
}

#[test]
fn many_processes_connecting_at_once_migrate_once() {
    let database = FreshDatabase::new("coordinate_concurrent_migrations");
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                let coordinate = PostgresCoordinate::builder(&database.url)
                    .pool_size(1)
                    .build()
                    .unwrap();
                coordinate.namespace(&unique("n")).unwrap();
            });
        }
    });
    let mut conn = database.connection();
    assert_both_bookkeepings_complete(&mut conn);
    assert_eq!(count(&mut conn, "SELECT count(*) FROM namespace"), 8);
}
