//! Selecting work units by query: listing, counting, deleting and
//! (re)prioritising them.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use coordinate_api::{WorkSpec, WorkUnitQuery, WorkUnitStatus};

use crate::work_unit::{expected_status, make_status_units, STATUS_UNITS};
use crate::{Backend, Fixture};

use WorkUnitStatus::{Available, Delayed, Failed, Finished, Pending};

fn names(spec: &Arc<dyn WorkSpec>, query: &WorkUnitQuery) -> Vec<String> {
    spec.work_units(query)
        .expect("work_units")
        .iter()
        .map(|u| u.name().to_owned())
        .collect()
}

fn query(
    names: &[&str],
    statuses: &[WorkUnitStatus],
    previous_name: Option<&str>,
    limit: Option<usize>,
) -> WorkUnitQuery {
    WorkUnitQuery {
        names: names.iter().map(|n| (*n).to_owned()).collect(),
        statuses: statuses.to_vec(),
        previous_name: previous_name.map(str::to_owned),
        limit,
    }
}

fn priorities(spec: &Arc<dyn WorkSpec>) -> Vec<(String, f64)> {
    spec.work_units(&WorkUnitQuery::all())
        .expect("work_units")
        .iter()
        .map(|u| (u.name().to_owned(), u.priority().expect("priority")))
        .collect()
}

/// All units come in name order, and limit plus previous_name pages through them (go: TestWorkUnitQueries).
pub fn query_pages_in_name_order(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    make_status_units(&fx, &spec);
    assert_eq!(names(&spec, &WorkUnitQuery::all()), STATUS_UNITS);
    assert_eq!(
        names(&spec, &query(&[], &[], None, Some(4))),
        ["available", "delayed", "expired", "failed"]
    );
    assert_eq!(
        names(&spec, &query(&[], &[], Some("failed"), Some(4))),
        ["finished", "pending", "retryable"]
    );
    assert!(names(&spec, &query(&[], &[], Some("retryable"), Some(4))).is_empty());
    // previous_name needs not be a unit's name; it compares as a string.
    assert_eq!(
        names(&spec, &query(&[], &[], Some("f"), None)),
        ["failed", "finished", "pending", "retryable"]
    );
}

/// Status filters select exactly the units in those statuses (go: TestWorkUnitQueries).
pub fn query_by_status(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    make_status_units(&fx, &spec);
    let cases: [(&[WorkUnitStatus], &[&str]); 7] = [
        (&[Available], &["available", "expired", "retryable"]),
        (&[Pending], &["pending"]),
        (&[Finished], &["finished"]),
        (&[Failed], &["failed"]),
        (&[Delayed], &["delayed"]),
        (&[Failed, Finished], &["failed", "finished"]),
        (
            &[Delayed, Pending, Available],
            &["available", "delayed", "expired", "pending", "retryable"],
        ),
    ];
    for (statuses, expected) in cases {
        assert_eq!(
            names(&spec, &query(&[], statuses, None, None)),
            expected,
            "{statuses:?}"
        );
    }
    assert_eq!(
        names(&spec, &query(&[], &[Available], Some("b"), Some(1))),
        ["expired"]
    );
}

/// Name filters, alone or with statuses, select the named units that exist (go: TestWorkUnitQueries).
pub fn query_by_name(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    make_status_units(&fx, &spec);
    assert_eq!(
        names(
            &spec,
            &query(&["failed", "available", "missing"], &[], None, None)
        ),
        ["available", "failed"]
    );
    assert_eq!(
        names(
            &spec,
            &query(
                &["available", "retryable", "finished"],
                &[Available],
                None,
                None
            )
        ),
        ["available", "retryable"]
    );
    assert!(names(&spec, &query(&["missing"], &[], None, None)).is_empty());
}

/// Reads that filter or count by status see leases that ran out as available.
pub fn status_reads_see_expired_leases(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let unit = fx.unit(&spec, "unit");
    fx.worker("worker")
        .make_attempt(unit.clone(), Duration::from_secs(60))
        .expect("make_attempt");
    assert_eq!(names(&spec, &WorkUnitQuery::statuses([Pending])), ["unit"]);
    fx.clock.advance(Duration::from_secs(120));
    assert!(names(&spec, &WorkUnitQuery::statuses([Pending])).is_empty());
    assert_eq!(
        names(&spec, &WorkUnitQuery::statuses([Available])),
        ["unit"]
    );
    let counts = spec.count_work_unit_status().expect("count");
    assert_eq!(counts, BTreeMap::from([(Available, 1)]));
    assert_eq!(unit.status().expect("status"), Available);
}

/// Deleting by name, status and everything returns how many went (go: TestDeleteWorkUnits).
pub fn delete_work_units_counts(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    make_status_units(&fx, &spec);
    assert_eq!(names(&spec, &WorkUnitQuery::all()), STATUS_UNITS);

    let by_name = WorkUnitQuery::names(["retryable"]);
    assert_eq!(spec.delete_work_units(&by_name).expect("delete"), 1);
    let six = [
        "available",
        "delayed",
        "expired",
        "failed",
        "finished",
        "pending",
    ];
    assert_eq!(names(&spec, &WorkUnitQuery::all()), six);
    assert_eq!(spec.delete_work_units(&by_name).expect("delete again"), 0);
    assert_eq!(names(&spec, &WorkUnitQuery::all()), six);

    let by_status = WorkUnitQuery::statuses([Failed, Finished]);
    assert_eq!(spec.delete_work_units(&by_status).expect("delete"), 2);
    assert_eq!(
        names(&spec, &WorkUnitQuery::all()),
        ["available", "delayed", "expired", "pending"]
    );
    assert_eq!(
        spec.delete_work_units(&WorkUnitQuery::all())
            .expect("delete"),
        4
    );
    assert!(names(&spec, &WorkUnitQuery::all()).is_empty());
    assert_eq!(
        spec.delete_work_units(&WorkUnitQuery::all())
            .expect("delete"),
        0
    );
}

/// Deleting a pending unit also removes its attempt from the worker.
pub fn delete_units_drops_their_attempts(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let keep = fx.unit(&spec, "keep");
    let doomed = fx.unit(&spec, "doomed");
    let worker = fx.worker("worker");
    let lease = Duration::from_secs(600);
    worker.make_attempt(keep, lease).expect("attempt keep");
    worker.make_attempt(doomed, lease).expect("attempt doomed");
    assert_eq!(worker.active_attempts().expect("active").len(), 2);

    let deleted = spec
        .delete_work_units(&WorkUnitQuery::names(["doomed"]))
        .expect("delete");
    assert_eq!(deleted, 1);
    let active = worker.active_attempts().expect("active");
    let left: Vec<String> = active
        .iter()
        .map(|a| a.work_unit().name().to_owned())
        .collect();
    assert_eq!(left, ["keep"]);
    assert_eq!(worker.all_attempts().expect("all").len(), 1);
}

/// Counts per status leave out statuses with no units (go: TestCountWorkUnitStatus).
pub fn count_work_unit_status(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    assert!(spec.count_work_unit_status().expect("count").is_empty());
    make_status_units(&fx, &spec);
    let counts = spec.count_work_unit_status().expect("count");
    assert_eq!(
        counts,
        BTreeMap::from([
            (Available, 3),
            (Pending, 1),
            (Finished, 1),
            (Failed, 1),
            (Delayed, 1),
        ])
    );
    for (status, count) in &counts {
        let named = STATUS_UNITS
            .iter()
            .filter(|n| expected_status(n) == *status)
            .count();
        assert_eq!(*count, named, "{status}");
    }
}

/// Setting priorities by query changes only the selected units.
pub fn set_priorities_by_query(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    make_status_units(&fx, &spec);
    spec.set_work_unit_priorities(&WorkUnitQuery::statuses([Available]), 5.0)
        .expect("set by status");
    spec.set_work_unit_priorities(&WorkUnitQuery::names(["failed", "missing"]), -1.5)
        .expect("set by name");
    for (name, priority) in priorities(&spec) {
        let expected = match name.as_str() {
            "available" | "expired" | "retryable" => 5.0,
            "failed" => -1.5,
            _ => 0.0,
        };
        assert_eq!(priority, expected, "{name}");
    }
    spec.set_work_unit_priorities(&WorkUnitQuery::all(), 2.0)
        .expect("set all");
    assert!(priorities(&spec).iter().all(|(_, p)| *p == 2.0));
}

/// Adjusting priorities by query adds to each selected unit's priority (go: TestWorkUnitPrioritySet).
pub fn adjust_priorities_by_query(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    for name in ["a", "b", "c"] {
        fx.unit(&spec, name);
    }
    spec.work_unit("b")
        .expect("b")
        .set_priority(10.0)
        .expect("set");
    let b_and_c = WorkUnitQuery::names(["b", "c"]);
    spec.adjust_work_unit_priorities(&b_and_c, 20.0)
        .expect("adjust");
    spec.adjust_work_unit_priorities(&b_and_c, -0.5)
        .expect("adjust");
    let paged = WorkUnitQuery {
        previous_name: Some("a".into()),
        limit: Some(1),
        ..WorkUnitQuery::default()
    };
    spec.adjust_work_unit_priorities(&paged, 100.0)
        .expect("adjust paged");
    let expected = vec![
        ("a".to_owned(), 0.0),
        ("b".to_owned(), 129.5),
        ("c".to_owned(), 19.5),
    ];
    assert_eq!(priorities(&spec), expected);
}
