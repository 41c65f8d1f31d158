//! A claim brings its units' data along (`Attempt::claimed_data`), so a
//! handler that reads its data costs no round trip of its own. Shown here
//! by changing the data behind the claim's back: what the claim brought
//! stays as it was claimed (it cannot have been read later), while
//! `Attempt::data` reads the store.

use std::time::Duration;

use coordinate_api::data::encode;
use coordinate_api::runtime::Job;
use coordinate_api::{AttemptRequest, WorkUnitMeta};
use coordinate_postgres::test_support::database_url;
use diesel::pg::PgConnection;
use diesel::sql_types::{Bytea, Text};
use diesel::{sql_query, Connection, RunQueryDsl};

use crate::common::{coordinate, data, spec, unique};

/// Replaces unit `unit`'s data in SQL, behind every handle's back.
fn replace_data(namespace: &str, unit: &str, value: &str) {
    let mut conn = PgConnection::establish(&database_url()).expect("a connection");
    let changed = sql_query(
        "UPDATE work_unit u SET data = $3 FROM work_spec s, namespace n \
          WHERE u.work_spec_id = s.id AND s.namespace_id = n.id \
            AND n.name = $1 AND u.name = convert_to($2, 'UTF8')",
    )
    .bind::<Text, _>(namespace)
    .bind::<Text, _>(unit)
    .bind::<Bytea, _>(encode(&data("v", value)).unwrap())
    .execute(&mut conn)
    .expect("the update");
    assert_eq!(changed, 1);
}

#[test]
fn a_claim_brings_its_units_data_and_jobs_use_it() {
    let store = coordinate();
    let name = unique("claimed-data");
    let namespace = store.namespace(&name).unwrap();
    let work_spec = namespace.set_work_spec(spec("s", &[])).unwrap();
    for unit in ["a", "b", "c", "d"] {
        work_spec
            .add_work_unit(
                unit,
                data("v", &format!("{unit}-as-added")),
                WorkUnitMeta::default(),
            )
            .unwrap();
    }
    let worker = namespace.worker("w").unwrap();
    let batch = worker
        .request_attempts(&AttemptRequest {
            number_of_work_units: 3,
            ..AttemptRequest::default()
        })
        .unwrap();
    let single = worker.request_attempts(&AttemptRequest::default()).unwrap();
    assert_eq!((batch.len(), single.len()), (3, 1));
    for attempt in batch.iter().chain(&single) {
        let unit = attempt.work_unit().name().to_owned();
        let as_added = data("v", &format!("{unit}-as-added"));
        assert_eq!(attempt.claimed_data(), Some(as_added.clone()), "{unit}");
        assert_eq!(attempt.data().unwrap(), as_added);
        replace_data(&name, &unit, "changed later");
        assert_eq!(attempt.claimed_data(), Some(as_added.clone()), "no read");
        assert_eq!(
            attempt.data().unwrap(),
            data("v", "changed later"),
            "a read"
        );
        // The runtime's job takes what the claim brought.
        let job = Job::new(attempt.clone());
        assert_eq!(
            job.data().unwrap(),
            &as_added,
            "{unit}: the job read nothing"
        );
    }
    // An attempt made on a named unit read nothing along: it reads on use.
    let unit = work_spec.work_unit("a").unwrap();
    batch
        .iter()
        .chain(&single)
        .for_each(|a| a.finish(None).unwrap());
    let made = worker.make_attempt(unit, Duration::from_secs(60)).unwrap();
    assert_eq!(made.claimed_data(), None);
    assert_eq!(made.data().unwrap(), data("v", "changed later"));
    namespace.destroy().unwrap();
}
