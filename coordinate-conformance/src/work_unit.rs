//! Work units: creation, lookup, data, meta, status and re-adding.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use coordinate_api::{
    AttemptStatus, Clock, Data, Error, Value, WorkSpec, WorkUnitMeta, WorkUnitQuery, WorkUnitStatus,
};

use crate::{Backend, Fixture};

/// Names of the units [`make_status_units`] makes, in name order.
pub(crate) const STATUS_UNITS: [&str; 7] = [
    "available",
    "delayed",
    "expired",
    "failed",
    "finished",
    "pending",
    "retryable",
];

/// Adds one unit per name in [`STATUS_UNITS`] and drives each into the
/// state its name says, through attempts by a worker called `worker`
/// (go-coordinate's `MakeWorkUnits`). "delayed" is retried with a day's
/// delay; "pending" holds an hour-long lease.
pub(crate) fn make_status_units(fx: &Fixture, spec: &Arc<dyn WorkSpec>) {
    let worker = fx.worker("worker");
    for name in STATUS_UNITS {
        let unit = fx.unit(spec, name);
        if name == "available" {
            continue;
        }
        let attempt = worker
            .make_attempt(unit, Duration::from_secs(3600))
            .expect("make_attempt");
        match name {
            "pending" => Ok(()),
            "finished" => attempt.finish(None),
            "failed" => attempt.fail(None),
            "expired" => attempt.expire(None),
            "retryable" => attempt.retry(None, Duration::ZERO),
            "delayed" => attempt.retry(None, Duration::from_secs(24 * 3600)),
            _ => unreachable!("not a status unit"),
        }
        .expect("drive the attempt");
    }
}

/// The status each unit of [`make_status_units`] must report.
pub(crate) fn expected_status(name: &str) -> WorkUnitStatus {
    match name {
        "pending" => WorkUnitStatus::Pending,
        "finished" => WorkUnitStatus::Finished,
        "failed" => WorkUnitStatus::Failed,
        "delayed" => WorkUnitStatus::Delayed,
        _ => WorkUnitStatus::Available,
    }
}

fn data(pairs: &[(&str, Value)]) -> Data {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

fn time(fx: &Fixture, seconds_from_now: i64) -> DateTime<Utc> {
    fx.clock.now() + chrono::Duration::seconds(seconds_from_now)
}

/// A unit is listed, deleted, then no longer found (go: TestTrivialWorkUnitFlow).
pub fn trivial_work_unit_flow(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    fx.unit(&spec, "unit");
    let units = spec.work_units(&WorkUnitQuery::all()).expect("units");
    assert_eq!(units.len(), 1);
    assert_eq!(units[0].name(), "unit");
    assert_eq!(units[0].work_spec().name(), "spec");

    assert_eq!(
        spec.delete_work_units(&WorkUnitQuery::all())
            .expect("delete"),
        1
    );
    assert!(matches!(
        spec.work_unit("unit"),
        Err(Error::NoSuchWorkUnit { name }) if name == "unit"
    ));
    assert!(spec
        .work_units(&WorkUnitQuery::all())
        .expect("units")
        .is_empty());
}

/// A new unit is available, unattempted and has the meta it was given.
pub fn new_unit_state(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let unit = fx.unit(&spec, "unit");
    assert_eq!(unit.name(), "unit");
    assert_eq!(unit.work_spec().name(), "spec");
    assert_eq!(unit.status().expect("status"), WorkUnitStatus::Available);
    assert!(unit.active_attempt().expect("active").is_none());
    assert!(unit.attempts().expect("attempts").is_empty());
    assert_eq!(unit.num_attempts().expect("num_attempts"), 0);
    assert_eq!(unit.meta().expect("meta"), WorkUnitMeta::default());
    assert_eq!(unit.priority().expect("priority"), 0.0);
    assert!(unit.data().expect("data").is_empty());
}

/// Each unit keeps its own data (go: TestWorkUnitData).
pub fn work_unit_data(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    for (name, value) in [("a", 1), ("b", 2)] {
        let d = data(&[
            ("name", Value::Text(name.into())),
            ("value", Value::Integer(value)),
        ]);
        spec.add_work_unit(name, d, WorkUnitMeta::default())
            .expect("add");
    }
    for (name, value) in [("a", 1), ("b", 2)] {
        let unit = spec.work_unit(name).expect("work_unit");
        let expected = data(&[
            ("name", Value::Text(name.into())),
            ("value", Value::Integer(value)),
        ]);
        assert_eq!(unit.data().expect("data"), expected);
    }
}

/// Re-adding a unit in one spec leaves a same-named unit of another spec alone (go: TestAddWorkUnitBleedover).
pub fn add_work_unit_bleedover(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec_a = fx.spec("a", &[]);
    let spec_b = fx.spec("b", &[]);
    let which = |v: &str| data(&[("unit", Value::Text(v.into()))]);
    let unit_a = spec_a
        .add_work_unit("unit", which("a"), WorkUnitMeta::default())
        .expect("add a");
    let unit_b = spec_b
        .add_work_unit("unit", which("b"), WorkUnitMeta::default())
        .expect("add b");
    assert_eq!(unit_a.data().expect("a"), which("a"));
    assert_eq!(unit_b.data().expect("b"), which("b"));

    let unit_b2 = spec_b
        .add_work_unit("unit", which("c"), WorkUnitMeta::default())
        .expect("re-add b");
    assert_eq!(unit_a.data().expect("a"), which("a"));
    assert_eq!(unit_b.data().expect("b"), which("c"));
    assert_eq!(unit_b2.data().expect("b2"), which("c"));
}

/// Re-adding existing units replaces data and meta and makes them available (go: TestRecreateWorkUnits, SPEC for pending).
pub fn recreate_work_units(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    make_status_units(&fx, &spec);
    let fresh = data(&[("fresh", Value::Bool(true))]);
    let meta = WorkUnitMeta {
        priority: 3.0,
        not_before: None,
    };
    for name in STATUS_UNITS {
        let unit = spec
            .add_work_unit(name, fresh.clone(), meta)
            .expect("re-add");
        // SPEC: re-adding clears the active attempt, so even the pending
        // unit is available again (go-coordinate's memory backend kept a
        // pending unit pending).
        assert_eq!(
            unit.status().expect("status"),
            WorkUnitStatus::Available,
            "{name}"
        );
        assert!(unit.active_attempt().expect("active").is_none(), "{name}");
        assert_eq!(unit.data().expect("data"), fresh, "{name}");
        assert_eq!(unit.meta().expect("meta"), meta, "{name}");
    }
}

/// Each status unit reports the status its active attempt implies.
pub fn status_follows_active_attempt(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    make_status_units(&fx, &spec);
    for name in STATUS_UNITS {
        let unit = spec.work_unit(name).expect("work_unit");
        assert_eq!(
            unit.status().expect("status"),
            expected_status(name),
            "{name}"
        );
        let active = unit.active_attempt().expect("active");
        let active_status = active.map(|a| a.status().expect("attempt status"));
        let expected = match name {
            "pending" => Some(AttemptStatus::Pending),
            "finished" => Some(AttemptStatus::Finished),
            "failed" => Some(AttemptStatus::Failed),
            // Expired and retried attempts leave the unit without one.
            _ => None,
        };
        assert_eq!(active_status, expected, "{name}");
        let tries = usize::from(name != "available");
        assert_eq!(unit.num_attempts().expect("num_attempts"), tries, "{name}");
        assert_eq!(unit.attempts().expect("attempts").len(), tries, "{name}");
    }
}

/// Looking up a unit that does not exist names it in the error.
pub fn missing_work_unit(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    fx.unit(&spec, "present");
    assert!(matches!(
        spec.work_unit("absent"),
        Err(Error::NoSuchWorkUnit { name }) if name == "absent"
    ));
}

/// Unit meta (priority, not-before) round-trips through add, set_meta and set_priority.
pub fn unit_meta_round_trip(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let given = WorkUnitMeta {
        priority: -2.5,
        not_before: Some(time(&fx, 30)),
    };
    let unit = spec.add_work_unit("unit", Data::new(), given).expect("add");
    assert_eq!(unit.meta().expect("meta"), given);
    assert_eq!(unit.priority().expect("priority"), -2.5);
    assert_eq!(unit.status().expect("status"), WorkUnitStatus::Delayed);

    let changed = WorkUnitMeta {
        priority: 1e9,
        not_before: None,
    };
    unit.set_meta(changed).expect("set_meta");
    assert_eq!(unit.meta().expect("meta"), changed);
    assert_eq!(unit.status().expect("status"), WorkUnitStatus::Available);

    unit.set_priority(0.125).expect("set_priority");
    let other = spec.work_unit("unit").expect("work_unit");
    assert_eq!(other.priority().expect("priority"), 0.125);
    assert_eq!(other.meta().expect("meta").not_before, None);
}

/// Clearing a finished unit's active attempt makes it available and keeps the history.
pub fn clear_active_attempt(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let unit = fx.unit(&spec, "unit");
    let worker = fx.worker("worker");
    let attempt = worker
        .make_attempt(unit.clone(), Duration::from_secs(60))
        .expect("make_attempt");
    attempt.finish(None).expect("finish");
    assert_eq!(unit.status().expect("status"), WorkUnitStatus::Finished);

    unit.clear_active_attempt().expect("clear");
    assert_eq!(unit.status().expect("status"), WorkUnitStatus::Available);
    assert!(unit.active_attempt().expect("active").is_none());
    assert_eq!(unit.num_attempts().expect("num_attempts"), 1);
    assert_eq!(attempt.status().expect("attempt"), AttemptStatus::Finished);
    // Clearing again is harmless.
    unit.clear_active_attempt().expect("clear twice");
}
