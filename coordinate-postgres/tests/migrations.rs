//! Migrations up, down and up again, in databases of their own.

mod common;

use common::{spec, unique, FreshDatabase};
use coordinate_api::{AttemptRequest, Coordinate, Data, WorkUnitMeta};
use coordinate_postgres::PostgresCoordinate;
use diesel::pg::PgConnection;
use diesel::sql_types::{BigInt, Text};
use diesel::{sql_query, QueryableByName, RunQueryDsl};

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
    let namespace = coordinate.namespace("n").unwrap();
    let work_spec = namespace.set_work_spec(spec("s", &[])).unwrap();
    work_spec
        .add_work_unit("u", Data::new(), WorkUnitMeta::default())
        .unwrap();
    let attempts = namespace
        .worker("w")
        .unwrap()
        .request_attempts(&AttemptRequest::default())
        .unwrap();
    attempts[0].finish(None).unwrap();
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
    assert_eq!(
        count(&mut conn, "SELECT count(*) FROM __diesel_schema_migrations"),
        17
    );
    use_it(&database.url);
    // Upgrading an up-to-date database changes nothing.
    coordinate_postgres::upgrade(&database.url).unwrap();
    assert_eq!(objects(&mut conn), schema);

    coordinate_postgres::drop(&database.url).unwrap();
    assert_eq!(objects(&mut conn), Vec::<String>::new());

    coordinate_postgres::upgrade(&database.url).unwrap();
    assert_eq!(objects(&mut conn), schema);
    use_it(&database.url);
    coordinate_postgres::drop(&database.url).unwrap();
    assert_eq!(objects(&mut conn), Vec::<String>::new());
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
    assert_eq!(
        count(&mut conn, "SELECT count(*) FROM __diesel_schema_migrations"),
        17
    );
    assert_eq!(count(&mut conn, "SELECT count(*) FROM namespace"), 8);
}
