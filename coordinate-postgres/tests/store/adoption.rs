//! Adopting a database that go-coordinate created and filled.

use coordinate_api::data::encode;
use coordinate_api::{AttemptRequest, Coordinate, Value, WorkUnitStatus};
use coordinate_postgres::PostgresCoordinate;
use diesel::connection::SimpleConnection;
use diesel::sql_types::{BigInt, Bytea, Text};
use diesel::{sql_query, QueryableByName, RunQueryDsl};

use crate::common::{data, FreshDatabase};

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

#[test]
fn a_go_coordinate_database_is_adopted_as_it_is() {
    let database = FreshDatabase::new("coordinate_adoption");
    let mut conn = database.connection();
    conn.batch_execute(include_str!("../fixtures/go_coordinate_schema.sql"))
        .unwrap();

    // What go-coordinate would have written: CBOR definitions and data,
    // meta in columns, a worker with empty data bytes.
    let mut definition = data("name", "legacy");
    definition.insert("priority".into(), Value::Integer(3));
    sql_query("INSERT INTO namespace (name) VALUES ('old'); ")
        .execute(&mut conn)
        .unwrap();
    sql_query(
        "INSERT INTO work_spec (namespace_id, name, data, priority, weight, paused, continuous, \
             can_be_continuous, interval, next_continuous, max_running, max_attempts_returned, \
             next_work_spec_name, next_work_spec_preempts, min_memory_gb, runtime, max_retries) \
         SELECT id, 'legacy', $1, 3, 20, FALSE, FALSE, FALSE, '0 0:0:0.000000', NULL, 0, 0, '', \
                FALSE, 0, '', 0 \
           FROM namespace WHERE name = 'old'",
    )
    .bind::<Bytea, _>(encode(&definition).unwrap())
    .execute(&mut conn)
    .unwrap();
    sql_query(
        "INSERT INTO work_unit (work_spec_id, name, data, priority) \
         SELECT id, convert_to('unit-1', 'UTF8'), $1, 0 FROM work_spec WHERE name = 'legacy'",
    )
    .bind::<Bytea, _>(encode(&data("url", "https://example.com/")).unwrap())
    .execute(&mut conn)
    .unwrap();
    sql_query(
        "INSERT INTO worker (namespace_id, name, active, mode, data, expiration, last_update) \
         SELECT id, 'old-worker', TRUE, '', '', '2017-06-01Z', '2017-06-01Z' \
           FROM namespace WHERE name = 'old'",
    )
    .execute(&mut conn)
    .unwrap();

    let coordinate = PostgresCoordinate::new(&database.url).unwrap();
    let namespace = coordinate.namespace("old").unwrap();
    let spec = namespace.work_spec("legacy").unwrap();
    assert_eq!(spec.data().unwrap(), definition);
    assert_eq!(spec.meta(false).unwrap().priority, 3);
    let unit = spec.work_unit("unit-1").unwrap();
    assert_eq!(unit.data().unwrap(), data("url", "https://example.com/"));
    assert_eq!(unit.status().unwrap(), WorkUnitStatus::Available);
    let worker = namespace.worker("old-worker").unwrap();
    assert!(worker.data().unwrap().is_empty());
    let attempts = worker.request_attempts(&AttemptRequest::default()).unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].work_unit().name(), "unit-1");
    attempts[0].finish(None).unwrap();
    assert_eq!(unit.status().unwrap(), WorkUnitStatus::Finished);

    // go-coordinate's bookkeeping is untouched; ours lists every migration,
    // and only our own ones actually ran (their indexes exist).
    let count = |conn: &mut _, query| sql_query(query).get_result::<Count>(conn).unwrap().count;
    assert_eq!(count(&mut conn, "SELECT count(*) FROM gorp_migrations"), 15);
    assert_eq!(
        count(&mut conn, "SELECT count(*) FROM __diesel_schema_migrations"),
        18
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) FROM pg_indexes WHERE indexname = 'work_unit_claim'"
        ),
        1
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) FROM pg_indexes WHERE indexname = 'work_unit_attempt' \
               AND indexdef LIKE '%WHERE (active_attempt_id IS NOT NULL)'"
        ),
        1
    );

    // Dropping removes the schema and go-coordinate's record of it.
    coordinate_postgres::drop(&database.url).unwrap();
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = Text)]
        #[allow(dead_code)]
        relname: String,
    }
    let left: Vec<Name> = sql_query(
        "SELECT relname::text AS relname FROM pg_class c JOIN pg_namespace n \
           ON n.oid = c.relnamespace WHERE n.nspname = 'public'",
    )
    .load(&mut conn)
    .unwrap();
    assert!(left.is_empty());
}

#[test]
fn a_partly_migrated_go_coordinate_database_is_finished_off() {
    let database = FreshDatabase::new("coordinate_partial_adoption");
    let mut conn = database.connection();
    conn.batch_execute(include_str!("../fixtures/go_coordinate_schema.sql"))
        .unwrap();
    // Pretend go-coordinate stopped before its last migration.
    conn.batch_execute(
        "DELETE FROM gorp_migrations WHERE id = '20170523-work-unit-max-retries.sql'; \
         ALTER TABLE work_spec DROP COLUMN max_retries;",
    )
    .unwrap();
    coordinate_postgres::upgrade(&database.url).unwrap();
    let columns = sql_query(
        "SELECT count(*) FROM information_schema.columns \
          WHERE table_name = 'work_spec' AND column_name = 'max_retries'",
    )
    .get_result::<Count>(&mut conn)
    .unwrap();
    assert_eq!(columns.count, 1);
}
