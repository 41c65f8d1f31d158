//! Deleted objects: every call on a handle whose object (or an ancestor)
//! was deleted fails with `Error::Gone` naming that handle; list calls on a deleted
//! namespace come back empty, as the trait docs say.

use std::sync::Arc;
use std::time::Duration;

use coordinate_api::{
    Attempt, AttemptRequest, Clock, Data, Error, ObjectKind, Result, WorkSpec, WorkSpecMeta,
    WorkUnit, WorkUnitMeta, WorkUnitQuery, Worker,
};

use crate::attempt::request_one;
use crate::{definition, unique_name, Backend, Fixture};

/// Insists that `result` is `Err(Error::Gone)` naming the handle the call was made on.
/// `handle` is its kind and name (an attempt's: its work unit's).
pub(crate) fn gone<T>(handle: (ObjectKind, &str), what: &str, result: Result<T>) {
    match result {
        Err(Error::Gone { kind, name }) if (kind, name.as_str()) == handle => {}
        Err(other) => panic!("{what}: expected Gone naming {handle:?}, got {other:?}"),
        Ok(_) => panic!("{what}: expected Gone, got Ok"),
    }
}

/// Every work spec call fails with Gone.
fn spec_is_gone(spec: &dyn WorkSpec) {
    let handle = (ObjectKind::WorkSpec, spec.name());
    let all = WorkUnitQuery::all();
    gone(handle, "data", spec.data());
    gone(
        handle,
        "set_data",
        spec.set_data(definition(spec.name(), &[])),
    );
    gone(handle, "meta", spec.meta(false));
    gone(handle, "meta with counts", spec.meta(true));
    gone(handle, "set_meta", spec.set_meta(WorkSpecMeta::default()));
    gone(
        handle,
        "add_work_unit",
        spec.add_work_unit("foo", Data::new(), WorkUnitMeta::default()),
    );
    gone(handle, "work_unit", spec.work_unit("unit"));
    gone(handle, "work_units", spec.work_units(&all));
    gone(
        handle,
        "count_work_unit_status",
        spec.count_work_unit_status(),
    );
    gone(
        handle,
        "set_work_unit_priorities",
        spec.set_work_unit_priorities(&all, 1.0),
    );
    gone(
        handle,
        "adjust_work_unit_priorities",
        spec.adjust_work_unit_priorities(&all, 1.0),
    );
    gone(handle, "delete_work_units", spec.delete_work_units(&all));
    gone(handle, "summarize", spec.summarize());
}

/// Every work unit call fails with Gone.
pub(crate) fn unit_is_gone(unit: &dyn WorkUnit) {
    let handle = (ObjectKind::WorkUnit, unit.name());
    gone(handle, "data", unit.data());
    gone(handle, "status", unit.status());
    gone(handle, "meta", unit.meta());
    gone(handle, "set_meta", unit.set_meta(WorkUnitMeta::default()));
    gone(handle, "priority", unit.priority());
    gone(handle, "set_priority", unit.set_priority(1.0));
    gone(handle, "active_attempt", unit.active_attempt());
    gone(handle, "clear_active_attempt", unit.clear_active_attempt());
    gone(handle, "attempts", unit.attempts());
    gone(handle, "num_attempts", unit.num_attempts());
}

/// Every attempt call fails with Gone.
pub(crate) fn attempt_is_gone(attempt: &dyn Attempt) {
    let unit = attempt.work_unit();
    let handle = (ObjectKind::Attempt, unit.name());
    let minute = Duration::from_secs(60);
    gone(handle, "status", attempt.status());
    gone(handle, "data", attempt.data());
    gone(handle, "start_time", attempt.start_time());
    gone(handle, "end_time", attempt.end_time());
    gone(handle, "expiration_time", attempt.expiration_time());
    gone(handle, "renew", attempt.renew(minute, None));
    gone(handle, "expire", attempt.expire(None));
    gone(handle, "finish", attempt.finish(None));
    gone(handle, "fail", attempt.fail(None));
    gone(handle, "retry", attempt.retry(None, minute));
}

/// Every worker call fails with Gone.
pub(crate) fn worker_is_gone(
    worker: &dyn Worker,
    unit: Arc<dyn WorkUnit>,
    now: chrono::DateTime<chrono::Utc>,
) {
    let handle = (ObjectKind::Worker, worker.name());
    gone(handle, "parent", worker.parent());
    gone(handle, "set_parent", worker.set_parent(None));
    gone(handle, "children", worker.children());
    gone(handle, "active", worker.active());
    gone(handle, "deactivate", worker.deactivate());
    gone(handle, "mode", worker.mode());
    gone(handle, "data", worker.data());
    gone(handle, "expiration", worker.expiration());
    gone(handle, "last_update", worker.last_update());
    gone(
        handle,
        "update",
        worker.update(Data::new(), now, now, "mode"),
    );
    gone(
        handle,
        "request_attempts",
        worker.request_attempts(&AttemptRequest::default()),
    );
    gone(
        handle,
        "make_attempt",
        worker.make_attempt(unit, Duration::from_secs(60)),
    );
    gone(handle, "active_attempts", worker.active_attempts());
    gone(handle, "all_attempts", worker.all_attempts());
    gone(handle, "child_attempts", worker.child_attempts());
}

/// A spec handle is gone after `destroy_work_spec` (go: TestSpecDeletedGone).
pub fn spec_deleted_gone(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    fx.unit(&spec, "unit");
    fx.namespace.destroy_work_spec("spec").expect("destroy");
    assert_eq!(spec.name(), "spec");
    spec_is_gone(spec.as_ref());
}

/// A spec handle is gone after its namespace is destroyed (go: TestSpecInNamespaceGone).
pub fn spec_in_namespace_gone(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    fx.unit(&spec, "unit");
    fx.namespace.destroy().expect("destroy");
    spec_is_gone(spec.as_ref());
}

/// A unit handle is gone after `delete_work_units` (go: TestUnitDeletedGone).
pub fn unit_deleted_gone(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let unit = fx.unit(&spec, "unit");
    assert_eq!(
        spec.delete_work_units(&WorkUnitQuery::all())
            .expect("delete"),
        1
    );
    assert_eq!(unit.name(), "unit");
    unit_is_gone(unit.as_ref());
}

/// A unit handle is gone after its work spec is destroyed (go: TestUnitSpecDeletedGone).
pub fn unit_spec_deleted_gone(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let unit = fx.unit(&spec, "unit");
    fx.namespace.destroy_work_spec("spec").expect("destroy");
    unit_is_gone(unit.as_ref());
}

/// A unit handle is gone after its namespace is destroyed.
pub fn unit_namespace_destroyed_gone(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let unit = fx.unit(&spec, "unit");
    fx.namespace.destroy().expect("destroy");
    unit_is_gone(unit.as_ref());
}

/// An attempt is gone once its unit is deleted (go: TestAttemptGone).
pub fn attempt_gone(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    fx.unit(&spec, "unit");
    let attempt = request_one(fx.worker("worker").as_ref());
    spec.delete_work_units(&WorkUnitQuery::all())
        .expect("delete");
    attempt_is_gone(attempt.as_ref());
}

/// An attempt is gone once its work spec is destroyed.
pub fn attempt_spec_destroyed_gone(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    fx.unit(&spec, "unit");
    let attempt = request_one(fx.worker("worker").as_ref());
    fx.namespace.destroy_work_spec("spec").expect("destroy");
    attempt_is_gone(attempt.as_ref());
}

/// Attempts, workers, units and specs are all gone once the namespace is destroyed.
pub fn everything_gone_with_namespace(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let unit = fx.unit(&spec, "unit");
    fx.unit(&spec, "other");
    let parent = fx.worker("parent");
    let worker = fx.worker("worker");
    worker.set_parent(Some(parent.clone())).expect("set_parent");
    let attempt = request_one(worker.as_ref());
    fx.namespace.destroy().expect("destroy");

    attempt_is_gone(attempt.as_ref());
    // The attempt's own handles are gone too.
    unit_is_gone(attempt.work_unit().as_ref());
    let now = fx.clock.now();
    worker_is_gone(attempt.worker().as_ref(), unit.clone(), now);
    worker_is_gone(worker.as_ref(), unit.clone(), now);
    worker_is_gone(parent.as_ref(), unit.clone(), now);
    unit_is_gone(unit.as_ref());
    spec_is_gone(spec.as_ref());
}

/// A destroyed namespace refuses changes and lookups, lists nothing, and may be destroyed again.
pub fn namespace_destroyed(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let handle = (ObjectKind::Namespace, fx.namespace.name());
    let spec = fx.spec("spec", &[]);
    fx.unit(&spec, "unit");
    fx.worker("worker");
    let ns = fx.namespace.clone();
    ns.destroy().expect("destroy");

    assert_eq!(ns.name(), fx.namespace.name());
    gone(
        handle,
        "set_work_spec",
        ns.set_work_spec(definition("new", &[])),
    );
    gone(handle, "work_spec", ns.work_spec("spec"));
    gone(handle, "destroy_work_spec", ns.destroy_work_spec("spec"));
    gone(handle, "worker", ns.worker("worker"));
    gone(handle, "new worker", ns.worker("new"));
    assert!(ns.work_spec_names().expect("work_spec_names").is_empty());
    assert!(ns.workers().expect("workers").is_empty());
    assert!(ns.summarize().expect("summarize").is_empty());
    ns.destroy().expect("destroy twice");

    let names: Vec<String> = fx
        .coordinate
        .namespaces()
        .expect("namespaces")
        .iter()
        .map(|n| n.name().to_owned())
        .collect();
    assert!(!names.iter().any(|n| n == ns.name()));
    let summary = fx.coordinate.summarize().expect("summarize");
    assert!(!summary.iter().any(|r| r.namespace == ns.name()));
}

/// A namespace re-created under the same name is a new, empty one; old handles stay gone.
pub fn recreated_namespace_is_new(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let old_spec = fx.spec("spec", &[]);
    fx.namespace.destroy().expect("destroy");
    let again = fx
        .coordinate
        .namespace(fx.namespace.name())
        .expect("recreate");
    let fresh = again.work_spec_names();
    let old = fx
        .namespace
        .set_work_spec(definition("spec", &[]))
        .map(|_| ());
    let old_spec_meta = old_spec.meta(false);
    again.destroy().expect("destroy the new one");
    assert!(fresh.expect("names").is_empty());
    gone(
        (ObjectKind::Namespace, fx.namespace.name()),
        "old namespace handle",
        old,
    );
    gone(
        (ObjectKind::WorkSpec, "spec"),
        "old spec handle",
        old_spec_meta,
    );
}

/// A work spec re-created under the same name is new; the old handle stays gone.
pub fn recreated_spec_is_new(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let old = fx.spec("spec", &[]);
    fx.unit(&old, "unit");
    fx.namespace.destroy_work_spec("spec").expect("destroy");
    let new = fx.spec("spec", &[]);
    gone((ObjectKind::WorkSpec, "spec"), "old meta", old.meta(false));
    gone(
        (ObjectKind::WorkSpec, "spec"),
        "old work_units",
        old.work_units(&WorkUnitQuery::all()),
    );
    assert!(new
        .work_units(&WorkUnitQuery::all())
        .expect("units")
        .is_empty());
    let looked_up = fx.namespace.work_spec("spec").expect("work_spec");
    assert!(looked_up.meta(false).is_ok());
}

/// A unit re-added under the same name is new; the old handle stays gone.
pub fn recreated_unit_is_new(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let old = fx.unit(&spec, "unit");
    spec.delete_work_units(&WorkUnitQuery::names(["unit"]))
        .expect("delete");
    let new = fx.unit(&spec, "unit");
    gone((ObjectKind::WorkUnit, "unit"), "old status", old.status());
    assert!(new.status().is_ok());
}

/// After deletion, lookups by name report the missing name, not Gone.
pub fn lookups_after_delete_are_no_such(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    fx.unit(&spec, "unit");
    spec.delete_work_units(&WorkUnitQuery::all())
        .expect("delete");
    assert!(matches!(
        spec.work_unit("unit"),
        Err(Error::NoSuchWorkUnit { name }) if name == "unit"
    ));
    fx.namespace.destroy_work_spec("spec").expect("destroy");
    assert!(matches!(
        fx.namespace.work_spec("spec"),
        Err(Error::NoSuchWorkSpec { name }) if name == "spec"
    ));
    assert!(matches!(
        fx.namespace.destroy_work_spec("spec"),
        Err(Error::NoSuchWorkSpec { name }) if name == "spec"
    ));
}

/// Deleting units takes their attempts off worker lists; the worker itself carries on.
pub fn deleted_units_leave_worker_lists(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let doomed = fx.spec("doomed", &[]);
    let kept = fx.spec("kept", &[]);
    fx.unit(&doomed, "d1");
    fx.unit(&doomed, "d2");
    let worker = fx.worker("worker");
    let parent = fx.worker("parent");
    worker.set_parent(Some(parent.clone())).expect("set_parent");
    request_one(worker.as_ref());
    request_one(worker.as_ref());
    doomed
        .delete_work_units(&WorkUnitQuery::names(["d1"]))
        .expect("delete d1");
    fx.namespace.destroy_work_spec("doomed").expect("destroy");

    assert!(worker.active_attempts().expect("active").is_empty());
    assert!(worker.all_attempts().expect("all").is_empty());
    assert!(parent.child_attempts().expect("child").is_empty());
    crate::attempt::request_none(worker.as_ref());
    fx.unit(&kept, "k");
    assert_eq!(request_one(worker.as_ref()).work_unit().name(), "k");
}

/// `make_attempt` on a deleted unit is Gone, and creates nothing.
pub fn make_attempt_on_deleted_unit(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let handle = (ObjectKind::Worker, "worker");
    let spec = fx.spec("spec", &[]);
    let unit = fx.unit(&spec, "unit");
    spec.delete_work_units(&WorkUnitQuery::all())
        .expect("delete");
    let worker = fx.worker("worker");
    gone(
        handle,
        "make_attempt",
        worker.make_attempt(unit, Duration::from_secs(60)),
    );
    assert!(worker.all_attempts().expect("all").is_empty());
    assert!(spec
        .work_units(&WorkUnitQuery::all())
        .expect("units")
        .is_empty());
}

/// Work units queued in another namespace are unaffected by destroying this one.
pub fn destroy_touches_only_its_namespace(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let other = fx
        .coordinate
        .namespace(&unique_name("other"))
        .expect("namespace");
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let theirs = other.set_work_spec(definition("spec", &[])).expect("spec");
        theirs
            .add_work_unit("unit", Data::new(), WorkUnitMeta::default())
            .expect("add");
        fx.spec("spec", &[]);
        fx.namespace.destroy().expect("destroy");
        assert_eq!(other.work_spec_names().expect("names"), ["spec"]);
        let unit = theirs.work_unit("unit").expect("unit");
        assert!(unit.status().is_ok());
        let worker = other.worker("worker").expect("worker");
        assert_eq!(request_one(worker.as_ref()).work_unit().name(), "unit");
    }));
    other.destroy().expect("destroy other");
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}
