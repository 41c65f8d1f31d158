//! A claim never dates its lease before the release that freed the unit,
//! even when that release commits while the claiming statement runs.
//!
//! The claim runs at READ COMMITTED. Its statement takes its snapshot,
//! then locks units; a unit that another worker claimed *and* released in
//! between still looks free when it is locked (PostgreSQL re-checks the
//! newest row version), but the attempts that other worker made are not in
//! the snapshot. Dating the new lease from that snapshot would make it
//! overlap the other worker's lease. These tests hold the claim statement
//! at that point with a row lock, so the interleaving is certain.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use coordinate_api::{AttemptRequest, Coordinate, Data, MockClock, WorkUnitMeta};
use coordinate_postgres::test_support::database_url;
use coordinate_postgres::PostgresCoordinate;
use diesel::pg::PgConnection;
use diesel::sql_types::{Integer, Text, Timestamptz};
use diesel::{sql_query, Connection, QueryableByName, RunQueryDsl};

use crate::common::{spec, unique};

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = Integer)]
    id: i32,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn id(conn: &mut PgConnection, query: &str, namespace: &str, name: &str) -> i32 {
    sql_query(query)
        .bind::<Text, _>(namespace)
        .bind::<Text, _>(name)
        .get_result::<Id>(conn)
        .expect("look up an id")
        .id
}

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + seconds, 0).unwrap()
}

/// Waits until some session is blocked behind `blocker`'s locks; fails
/// loudly when none ever is, since the test would then prove nothing.
fn wait_until_blocked(observer: &mut PgConnection, blocker: i32) {
    for _ in 0..500 {
        let waiting: Count = sql_query(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid))",
        )
        .bind::<Integer, _>(blocker)
        .get_result(observer)
        .unwrap();
        if waiting.n > 0 {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("the claim never waited for the held lock: the interleaving did not happen");
}

/// Another worker claims the unit and its lease runs out and is expired,
/// all while our claim statement waits; our lease must start no earlier
/// than that expiry.
#[test]
fn a_claim_racing_another_workers_lease_starts_after_it() {
    let clock = Arc::new(MockClock::new(at(0)));
    let coordinate = PostgresCoordinate::builder(&database_url())
        .pool_size(2)
        .clock(clock.clone())
        .build()
        .expect("connect");
    let name = unique("lease_start");
    let namespace = coordinate.namespace(&name).unwrap();
    let work_spec = namespace.set_work_spec(spec("s", &[])).unwrap();
    work_spec
        .add_work_unit("u", Data::new(), WorkUnitMeta::default())
        .unwrap();
    let ours = namespace.worker("ours").unwrap();
    namespace.worker("theirs").unwrap();

    let mut holder = PgConnection::establish(&database_url()).unwrap();
    let mut observer = PgConnection::establish(&database_url()).unwrap();
    let spec_id = id(
        &mut holder,
        "SELECT s.id FROM work_spec s JOIN namespace n ON n.id = s.namespace_id \
         WHERE n.name = $1 AND s.name = $2",
        &name,
        "s",
    );
    let unit_id: i32 = sql_query("SELECT id FROM work_unit WHERE work_spec_id = $1")
        .bind::<Integer, _>(spec_id)
        .get_result::<Id>(&mut holder)
        .unwrap()
        .id;
    let theirs_id = id(
        &mut holder,
        "SELECT w.id FROM worker w JOIN namespace n ON n.id = w.namespace_id \
         WHERE n.name = $1 AND w.name = $2",
        &name,
        "theirs",
    );
    let holder_pid: i32 = sql_query("SELECT pg_backend_pid() AS id")
        .get_result::<Id>(&mut holder)
        .unwrap()
        .id;

    // Hold the work spec's row so that our claim statement, once it has
    // its snapshot, waits before it locks any unit.
    sql_query("BEGIN").execute(&mut holder).unwrap();
    sql_query("SELECT id FROM work_spec WHERE id = $1 FOR UPDATE")
        .bind::<Integer, _>(spec_id)
        .execute(&mut holder)
        .unwrap();

    let claim = std::thread::spawn(move || {
        ours.request_attempts(&AttemptRequest {
            lifetime: Duration::from_secs(60),
            ..AttemptRequest::default()
        })
    });
    wait_until_blocked(&mut observer, holder_pid);

    // Meanwhile the other worker's attempt came and went: claimed at 1 s,
    // its 1 s lease expired by someone at 5 s. Their clocks read later
    // than ours did; ours is moved on too, so a later reading shows it.
    clock.set(at(5));
    let made: Id = sql_query(
        "INSERT INTO attempt (work_unit_id, work_spec_id, worker_id, start_time, \
                              expiration_time) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind::<Integer, _>(unit_id)
    .bind::<Integer, _>(spec_id)
    .bind::<Integer, _>(theirs_id)
    .bind::<Timestamptz, _>(at(1))
    .bind::<Timestamptz, _>(at(2))
    .get_result(&mut holder)
    .unwrap();
    sql_query("UPDATE work_unit SET active_attempt_id = $1 WHERE id = $2")
        .bind::<Integer, _>(made.id)
        .bind::<Integer, _>(unit_id)
        .execute(&mut holder)
        .unwrap();
    sql_query("UPDATE attempt SET status = 'expired', end_time = $2, active = FALSE WHERE id = $1")
        .bind::<Integer, _>(made.id)
        .bind::<Timestamptz, _>(at(5))
        .execute(&mut holder)
        .unwrap();
    sql_query("UPDATE work_unit SET active_attempt_id = NULL WHERE id = $1")
        .bind::<Integer, _>(unit_id)
        .execute(&mut holder)
        .unwrap();
    sql_query("COMMIT").execute(&mut holder).unwrap();

    let attempts = claim.join().unwrap().expect("the claim succeeds");
    assert_eq!(attempts.len(), 1, "the freed unit is handed out");
    let start = attempts[0].start_time().unwrap();
    assert!(
        start >= at(5),
        "our lease starts at {start}, before the other worker's lease ended at {}",
        at(5)
    );
    assert!(attempts[0].expiration_time().unwrap() >= at(5) + Duration::from_secs(60));
    namespace.destroy().unwrap();
}
