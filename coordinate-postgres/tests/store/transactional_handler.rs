//! `TransactionalHandler`: a runtime handler whose writes commit with its
//! unit's outcome, or not at all.

use std::time::{Duration, Instant};

use coordinate_api::runtime::{Job, JobError, JobOutcome, Runtime};
use coordinate_api::{Coordinate, Data, WorkUnitMeta, WorkUnitStatus};
use coordinate_postgres::diesel::{self, Connection, PgConnection, RunQueryDsl};
use coordinate_postgres::test_support::database_url;
use coordinate_postgres::{PostgresCoordinate, TransactionalHandler};

use crate::common::{spec, unique};

/// Rows the handlers wrote, by unit name.
fn rows(table: &str) -> Vec<String> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        unit: String,
    }
    let mut conn = PgConnection::establish(&database_url()).unwrap();
    diesel::sql_query(format!("SELECT unit FROM {table} ORDER BY unit"))
        .load::<Row>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|r| r.unit)
        .collect()
}

fn insert(conn: &mut PgConnection, table: &str, unit: &str) -> Result<(), JobError> {
    diesel::sql_query(format!("INSERT INTO {table} (unit) VALUES ($1)"))
        .bind::<diesel::sql_types::Text, _>(unit)
        .execute(conn)
        .map_err(JobError::new)?;
    Ok(())
}

#[test]
fn writes_commit_with_the_outcome_and_roll_back_with_an_error_or_a_lost_lease() {
    let coordinate = PostgresCoordinate::builder(&database_url())
        .pool_size(6)
        .build()
        .unwrap();
    let namespace = coordinate.namespace(&unique("tx_handler")).unwrap();
    let work = namespace.set_work_spec(spec("work", &[])).unwrap();
    // Units `ok-*` finish at once; `err-*` fail their first try after
    // writing; `lost-*` lose their lease to an outside expiry after
    // writing, the first time.
    let names = ["ok-1", "ok-2", "err-1", "lost-1"];
    for name in names {
        work.add_work_unit(name, Data::new(), WorkUnitMeta::default())
            .unwrap();
    }
    let table = unique("sent");
    let mut conn = PgConnection::establish(&database_url()).unwrap();
    diesel::sql_query(format!("CREATE TABLE {table} (unit text PRIMARY KEY)"))
        .execute(&mut conn)
        .unwrap();
    let handler = {
        let table = table.clone();
        TransactionalHandler::new(&coordinate, move |job: &Job, conn: &mut PgConnection| {
            let name = job.work_unit_name();
            insert(conn, &table, name)?;
            let first = job.attempt_number()? == 1;
            if first && name.starts_with("err-") {
                return Err("the first try fails after writing".into());
            }
            if first && name.starts_with("lost-") {
                // Someone takes the unit before this transaction commits.
                job.attempt().expire(None)?;
            }
            Ok(JobOutcome::finish())
        })
    };
    let runtime = Runtime::builder(namespace.clone())
        .handler("work", handler)
        .concurrency(2)
        .poll_interval(Duration::from_millis(50))
        .backoff(coordinate_api::runtime::Backoff {
            base: Duration::ZERO,
            cap: Duration::ZERO,
        })
        .worker_name(unique("tx-runtime"))
        .start()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let counts = work.count_work_unit_status().unwrap();
        if counts.get(&WorkUnitStatus::Finished).copied() == Some(names.len()) {
            break;
        }
        assert!(Instant::now() < until, "not all finished: {counts:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    runtime.shutdown();
    let report = runtime.wait();
    // Each unit's write is there once: the failed and the lost tries
    // rolled theirs back.
    let mut expected: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    expected.sort();
    assert_eq!(rows(&table), expected);
    let totals = report.totals;
    assert_eq!(totals.finished, 4, "{totals:?}");
    assert!(totals.retried >= 1, "the error was retried: {totals:?}");
    assert!(
        totals.lost_leases >= 1,
        "the lost lease was counted: {totals:?}"
    );
    assert_eq!(totals.refused, 0, "{totals:?}");
    let failed_once = work.work_unit("err-1").unwrap().attempts().unwrap().len();
    assert_eq!(failed_once, 2, "err-1 ran twice");
    namespace.destroy().unwrap();
    diesel::sql_query(format!("DROP TABLE {table}"))
        .execute(&mut conn)
        .unwrap();
}
