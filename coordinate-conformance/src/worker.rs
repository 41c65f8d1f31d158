//! Workers: get-or-create, ancestry, status reports and their attempts.

use std::sync::Arc;
use std::time::Duration;

use coordinate_api::data::{TAG_TUPLE, TAG_UUID};
use coordinate_api::{AttemptStatus, Clock, Error, Value, WorkUnitStatus, Worker};

use crate::attempt::{data, identity, request_one, text, unit_names};
use crate::{unique_name, Backend, Fixture};

fn worker_names(workers: &[Arc<dyn Worker>]) -> Vec<String> {
    workers.iter().map(|w| w.name().to_owned()).collect()
}

fn parent_name(worker: &dyn Worker) -> Option<String> {
    worker
        .parent()
        .expect("parent")
        .map(|p| p.name().to_owned())
}

fn children(worker: &dyn Worker) -> Vec<String> {
    worker_names(&worker.children().expect("children"))
}

/// Setting a parent shows on both sides (go: TestWorkerAncestry).
pub fn worker_ancestry(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let parent = fx.worker("parent");
    assert_eq!(parent_name(parent.as_ref()), None);
    assert!(children(parent.as_ref()).is_empty());

    let child = fx.worker("child");
    child.set_parent(Some(parent.clone())).expect("set_parent");
    assert_eq!(parent_name(parent.as_ref()), None);
    assert_eq!(children(parent.as_ref()), ["child"]);
    assert_eq!(parent_name(child.as_ref()).as_deref(), Some("parent"));
    assert!(children(child.as_ref()).is_empty());
}

/// Moving a child to a new parent leaves the old one childless (go: TestWorkerAdoption).
pub fn worker_adoption(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let child = fx.worker("child");
    let old = fx.worker("old");
    let new = fx.worker("new");
    child.set_parent(Some(old.clone())).expect("set old");
    child.set_parent(Some(new.clone())).expect("set new");

    assert_eq!(parent_name(child.as_ref()).as_deref(), Some("new"));
    assert!(children(child.as_ref()).is_empty());
    assert_eq!(parent_name(old.as_ref()), None);
    assert!(children(old.as_ref()).is_empty());
    assert_eq!(parent_name(new.as_ref()), None);
    assert_eq!(children(new.as_ref()), ["child"]);
}

/// `set_parent(None)` orphans a child.
pub fn clear_parent(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let parent = fx.worker("parent");
    let child = fx.worker("child");
    child.set_parent(Some(parent.clone())).expect("set");
    child.set_parent(None).expect("clear");
    assert_eq!(parent_name(child.as_ref()), None);
    assert!(children(parent.as_ref()).is_empty());
    child.set_parent(None).expect("clear again");
}

/// A parent lists all its children in name order.
pub fn children_in_name_order(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let parent = fx.worker("parent");
    for name in ["c", "a", "b"] {
        fx.worker(name)
            .set_parent(Some(parent.clone()))
            .expect("set_parent");
    }
    fx.worker("stranger");
    assert_eq!(children(parent.as_ref()), ["a", "b", "c"]);
}

/// A worker cannot be its own parent, nor adopt a worker of another namespace.
pub fn bad_parents_rejected(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let worker = fx.worker("worker");
    assert!(matches!(
        worker.set_parent(Some(worker.clone())),
        Err(Error::InvalidInput { .. })
    ));
    let elsewhere = fx
        .coordinate
        .namespace(&unique_name("other"))
        .expect("namespace");
    let stranger = elsewhere.worker("stranger").expect("worker");
    let result = worker.set_parent(Some(stranger));
    elsewhere.destroy().expect("destroy");
    assert!(
        matches!(result, Err(Error::InvalidInput { .. })),
        "{result:?}"
    );
    assert_eq!(parent_name(worker.as_ref()), None);
}

/// Defaults, `update`, `deactivate` and re-activation by `update` (go: TestWorkerMetadata).
pub fn worker_metadata(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let created = fx.clock.now();
    let worker = fx.worker("worker");
    assert!(worker.active().expect("active"));
    assert_eq!(worker.mode().expect("mode"), "");
    assert!(worker.data().expect("data").is_empty());
    let last_update = worker.last_update().expect("last_update");
    assert_eq!(last_update, created);
    assert_eq!(
        worker.expiration().expect("expiration") - last_update,
        chrono::Duration::minutes(15)
    );

    fx.clock.advance(Duration::from_secs(60));
    let now = fx.clock.now();
    let then = now + chrono::Duration::minutes(15);
    let report = data(&[("key", text("value"))]);
    worker
        .update(report.clone(), now, then, "run")
        .expect("update");
    assert!(worker.active().expect("active"));
    assert_eq!(worker.mode().expect("mode"), "run");
    assert_eq!(worker.data().expect("data"), report);
    assert_eq!(worker.expiration().expect("expiration"), then);
    assert_eq!(worker.last_update().expect("last_update"), now);

    worker.deactivate().expect("deactivate");
    assert!(!worker.active().expect("active"));
    worker.update(report, now, then, "run").expect("update");
    assert!(worker.active().expect("active"));
}

/// `update` stores the times it is given (not the clock's) and data with tags and bytes exactly.
pub fn update_round_trips(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let worker = fx.worker("worker");
    let reported = fx.clock.now() - chrono::Duration::days(1);
    let expires = fx.clock.now() + chrono::Duration::days(1);
    let report = data(&[
        (
            "uuid",
            Value::Tag(TAG_UUID, Box::new(Value::Bytes(vec![7; 16]))),
        ),
        (
            "tuple",
            Value::Tag(TAG_TUPLE, Box::new(Value::Array(vec![]))),
        ),
        ("bytes", Value::Bytes(vec![0, 255])),
        ("empty", Value::Array(vec![])),
    ]);
    worker
        .update(report.clone(), reported, expires, "idle")
        .expect("update");
    let again = fx.worker("worker");
    assert_eq!(again.data().expect("data"), report);
    assert_eq!(again.last_update().expect("last_update"), reported);
    assert_eq!(again.expiration().expect("expiration"), expires);
    assert_eq!(again.mode().expect("mode"), "idle");
}

/// Deactivating a worker that has a parent works (go: TestDeactivateChild).
pub fn deactivate_child(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let parent = fx.worker("parent");
    let child = fx.worker("child");
    child.set_parent(Some(parent.clone())).expect("set_parent");
    child.deactivate().expect("deactivate");
    assert!(!child.active().expect("active"));
    assert!(parent.active().expect("active"));
    assert_eq!(children(parent.as_ref()), ["child"]);
}

/// Getting a worker twice gives the same worker; `workers` lists each once, by name.
pub fn worker_get_or_create(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let first = fx.worker("b");
    first
        .update(
            data(&[("seen", Value::Bool(true))]),
            fx.clock.now(),
            fx.clock.now(),
            "m",
        )
        .expect("update");
    let second = fx.worker("b");
    assert_eq!(second.mode().expect("mode"), "m");
    fx.worker("a");
    fx.worker("c");
    let listed = fx.namespace.workers().expect("workers");
    assert_eq!(worker_names(&listed), ["a", "b", "c"]);
}

/// Active, all and child attempt lists of a child and its parent (go: TestWorkerAttempts).
pub fn worker_attempts(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let parent = fx.worker("parent");
    let child = fx.worker("child");
    child.set_parent(Some(parent.clone())).expect("set_parent");

    fx.unit(&spec, "one");
    let attempt = request_one(child.as_ref());
    assert_eq!(attempt.worker().name(), "child");
    assert_eq!(attempt.work_unit().work_spec().name(), "spec");
    assert_eq!(attempt.work_unit().name(), "one");
    attempt.finish(None).expect("finish");

    fx.clock.advance(Duration::from_secs(1));
    fx.unit(&spec, "two");
    let attempt = request_one(child.as_ref());
    assert_eq!(attempt.work_unit().name(), "two");

    let active = child.active_attempts().expect("active");
    assert_eq!(unit_names(&active), ["two"]);
    assert_eq!(active[0].worker().name(), "child");
    let all = child.all_attempts().expect("all");
    assert_eq!(unit_names(&all), ["one", "two"]);
    assert!(all.iter().all(|a| a.worker().name() == "child"));
    assert!(child.child_attempts().expect("child").is_empty());

    assert!(parent.active_attempts().expect("active").is_empty());
    assert!(parent.all_attempts().expect("all").is_empty());
    let of_children = parent.child_attempts().expect("child");
    assert_eq!(unit_names(&of_children), ["two"]);
    assert_eq!(of_children[0].worker().name(), "child");
    assert_eq!(of_children[0].work_unit().work_spec().name(), "spec");
}

/// `child_attempts` gathers the pending attempts of every child, and only those.
pub fn child_attempts_of_many_children(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let parent = fx.worker("parent");
    let lifetime = Duration::from_secs(600);
    let mut kept = Vec::new();
    for (child_name, units) in [("x", ["x1", "x2"]), ("y", ["y1", "y2"])] {
        let child = fx.worker(child_name);
        child.set_parent(Some(parent.clone())).expect("set_parent");
        for unit in units {
            let attempt = child
                .make_attempt(fx.unit(&spec, unit), lifetime)
                .expect("make_attempt");
            kept.push(attempt);
        }
    }
    let loner = fx.worker("loner");
    loner
        .make_attempt(fx.unit(&spec, "z"), lifetime)
        .expect("make_attempt");
    kept[1].finish(None).expect("finish x2");
    kept[2].fail(None).expect("fail y1");

    let mut names = unit_names(&parent.child_attempts().expect("child_attempts"));
    names.sort();
    assert_eq!(names, ["x1", "y2"]);
}

/// `make_attempt` bypasses the scheduler (even a paused spec) and uses the lifetime given.
pub fn make_attempt_on_unit(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[("disabled", Value::Bool(true))]);
    let unit = fx.unit(&spec, "unit");
    let worker = fx.worker("worker");
    crate::attempt::request_none(worker.as_ref());

    let attempt = worker
        .make_attempt(unit.clone(), Duration::from_secs(42))
        .expect("make_attempt");
    assert_eq!(attempt.worker().name(), "worker");
    assert_eq!(attempt.work_unit().name(), "unit");
    assert_eq!(attempt.status().expect("status"), AttemptStatus::Pending);
    assert_eq!(attempt.start_time().expect("start"), fx.clock.now());
    assert_eq!(
        attempt.expiration_time().expect("expiration"),
        fx.clock.now() + chrono::Duration::seconds(42)
    );
    assert_eq!(unit.status().expect("status"), WorkUnitStatus::Pending);
    let active = unit.active_attempt().expect("active").expect("some");
    assert_eq!(identity(active.as_ref()), identity(attempt.as_ref()));
    assert_eq!(
        unit_names(&worker.active_attempts().expect("active")),
        ["unit"]
    );
}

/// `make_attempt` on a unit someone holds takes over; the old holder loses its lease.
pub fn make_attempt_takes_over(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let unit = fx.unit(&spec, "unit");
    let old = request_one(fx.worker("old").as_ref());
    fx.clock.advance(Duration::from_secs(1));
    let new = fx
        .worker("new")
        .make_attempt(unit.clone(), Duration::from_secs(600))
        .expect("make_attempt");
    let active = unit.active_attempt().expect("active").expect("some");
    assert_eq!(identity(active.as_ref()), identity(new.as_ref()));
    assert!(matches!(
        old.renew(Duration::from_secs(600), None),
        Err(Error::LostLease { .. })
    ));
    assert_eq!(old.status().expect("status"), AttemptStatus::Expired);
    assert_eq!(unit.status().expect("status"), WorkUnitStatus::Pending);
    assert_eq!(unit.num_attempts().expect("num"), 2);
}

/// `make_attempt` refuses a unit of another namespace.
pub fn make_attempt_other_namespace(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let elsewhere = fx
        .coordinate
        .namespace(&unique_name("other"))
        .expect("namespace");
    let spec = elsewhere
        .set_work_spec(crate::definition("spec", &[]))
        .expect("spec");
    let unit = fx.unit(&spec, "unit");
    let result = fx
        .worker("worker")
        .make_attempt(unit.clone(), Duration::from_secs(60));
    let status = unit.status();
    elsewhere.destroy().expect("destroy");
    assert!(
        matches!(result, Err(Error::InvalidInput { .. })),
        "{:?}",
        result.err()
    );
    assert_eq!(status.expect("status"), WorkUnitStatus::Available);
}

/// A worker's attempt lists come oldest first.
pub fn attempts_in_start_order(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let worker = fx.worker("worker");
    for name in ["c", "a", "b"] {
        worker
            .make_attempt(fx.unit(&spec, name), Duration::from_secs(3600))
            .expect("make_attempt");
        fx.clock.advance(Duration::from_secs(1));
    }
    assert_eq!(
        unit_names(&worker.all_attempts().expect("all")),
        ["c", "a", "b"]
    );
    assert_eq!(
        unit_names(&worker.active_attempts().expect("active")),
        ["c", "a", "b"]
    );
}
