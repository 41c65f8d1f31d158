//! The operators' actions of `coordinate_api::operate`, on the memory
//! backend: what they change, and that a refusal changes nothing.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use coordinate_api::operate::{retry_failed_units, ReleasePlan};
use coordinate_api::{
    Coordinate, Data, Error, Namespace, Value, WorkSpec, WorkUnitMeta, WorkUnitStatus,
};
use coordinate_memory::MemoryCoordinate;

fn setup() -> (Arc<dyn Namespace>, Arc<dyn WorkSpec>) {
    let store = MemoryCoordinate::new();
    let namespace = store.namespace("n").unwrap();
    let mut definition = Data::new();
    definition.insert("name".into(), Value::Text("s".into()));
    let spec = namespace.set_work_spec(definition).unwrap();
    (namespace, spec)
}

fn add(spec: &Arc<dyn WorkSpec>, name: &str) -> Arc<dyn coordinate_api::WorkUnit> {
    spec.add_work_unit(name, Data::new(), WorkUnitMeta::default())
        .unwrap()
}

fn status(spec: &Arc<dyn WorkSpec>, name: &str) -> WorkUnitStatus {
    spec.work_unit(name).unwrap().status().unwrap()
}

#[test]
fn retrying_needs_every_named_unit_failed() {
    let (namespace, spec) = setup();
    let worker = namespace.worker("w").unwrap();
    for name in ["f1", "f2", "f3"] {
        let unit = add(&spec, name);
        let attempt = worker.make_attempt(unit, Duration::from_secs(60)).unwrap();
        attempt.fail(None).unwrap();
    }
    add(&spec, "ok");
    let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let error = retry_failed_units(&*spec, Some(&names(&["f1", "ok", "gone"]))).unwrap_err();
    let text = error.to_string();
    assert!(matches!(error, Error::InvalidInput { .. }), "{text}");
    assert!(
        text.contains("\"ok\" is available") && text.contains("\"gone\" does not exist"),
        "{text}"
    );
    assert_eq!(
        status(&spec, "f1"),
        WorkUnitStatus::Failed,
        "nothing changed"
    );
    assert_eq!(
        retry_failed_units(&*spec, Some(&names(&["f1"]))).unwrap(),
        1
    );
    assert_eq!(status(&spec, "f1"), WorkUnitStatus::Available);
    assert_eq!(
        spec.work_unit("f1").unwrap().num_attempts().unwrap(),
        1,
        "history kept"
    );
    assert_eq!(retry_failed_units(&*spec, None).unwrap(), 2);
    assert_eq!(status(&spec, "f3"), WorkUnitStatus::Available);
}

#[test]
fn releasing_a_live_worker_needs_force() {
    let (namespace, spec) = setup();
    let parent = namespace.worker("parent").unwrap();
    let child = namespace.worker("child").unwrap();
    child.set_parent(Some(parent.clone())).unwrap();
    let now = Utc::now();
    for worker in [&parent, &child] {
        worker
            .update(Data::new(), now, now + chrono::Duration::minutes(5), "run")
            .unwrap();
    }
    let unit = add(&spec, "u");
    child.make_attempt(unit, Duration::from_secs(600)).unwrap();
    let error = ReleasePlan::new(parent.clone(), false, now)
        .err()
        .expect("refused");
    assert!(
        error.to_string().contains("\"parent\" last reported"),
        "{error}"
    );
    assert_eq!(status(&spec, "u"), WorkUnitStatus::Pending);
    // Later, the child's report has run out.
    let later = now + chrono::Duration::minutes(6);
    let plan = ReleasePlan::new(parent.clone(), false, later).unwrap();
    assert_eq!((plan.attempts(), plan.children()), (1, 1));
    assert_eq!(plan.carry_out().unwrap(), 1);
    assert_eq!(status(&spec, "u"), WorkUnitStatus::Available);
    assert!(!child.active().unwrap() && !parent.active().unwrap());
    // Forced, a live worker is released too.
    child
        .update(Data::new(), now, now + chrono::Duration::minutes(5), "run")
        .unwrap();
    let unit = spec.work_unit("u").unwrap();
    child.make_attempt(unit, Duration::from_secs(600)).unwrap();
    assert_eq!(
        ReleasePlan::new(child.clone(), true, now)
            .unwrap()
            .carry_out()
            .unwrap(),
        1
    );
}
