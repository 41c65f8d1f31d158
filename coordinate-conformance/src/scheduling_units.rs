//! Scheduling within a work spec: which units come first (priority, then
//! name) and when delayed units and delayed output become due.

use std::time::Duration;

use coordinate_api::{
    AttemptRequest, Clock, Data, Value, WorkUnitMeta, WorkUnitQuery, WorkUnitStatus,
};

use crate::scheduling::{drain, label, many, request, with_priority};
use crate::{Backend, Fixture};

/// Units of equal priority come out in name order (go: TestWorkUnitOrder).
pub fn unit_order_by_name(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    for name in ["c", "b", "a"] {
        fx.unit(&spec, name);
    }
    assert_eq!(
        drain(&fx, &fx.worker("worker")),
        ["spec/a", "spec/b", "spec/c"]
    );
}

/// Priorities given when adding units decide the order (go: TestWorkUnitPriorityCtor).
pub fn unit_priority_ctor(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    for (name, priority) in [("a", 0.0), ("b", 10.0), ("c", 0.0)] {
        let unit = spec
            .add_work_unit(name, Data::new(), with_priority(priority))
            .expect("add");
        assert_eq!(unit.priority().expect("priority"), priority);
    }
    assert_eq!(
        drain(&fx, &fx.worker("worker")),
        ["spec/b", "spec/a", "spec/c"]
    );
}

/// Priorities set per unit, per query and by adjustment decide the order (go: TestWorkUnitPrioritySet).
pub fn unit_priority_set(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let a = fx.unit(&spec, "a");
    assert_eq!(a.priority().expect("priority"), 0.0);
    let b = fx.unit(&spec, "b");
    b.set_priority(10.0).expect("set_priority");
    assert_eq!(b.priority().expect("priority"), 10.0);
    let c = fx.unit(&spec, "c");
    let by_name = |name: &str| WorkUnitQuery::names([name]);
    spec.set_work_unit_priorities(&by_name("c"), 20.0)
        .expect("set");
    assert_eq!(c.priority().expect("priority"), 20.0);
    let d = fx.unit(&spec, "d");
    spec.adjust_work_unit_priorities(&by_name("d"), 20.0)
        .expect("adjust");
    assert_eq!(d.priority().expect("priority"), 20.0);
    spec.adjust_work_unit_priorities(&by_name("d"), 10.0)
        .expect("adjust");
    assert_eq!(d.priority().expect("priority"), 30.0);
    assert_eq!(
        spec.work_unit("b")
            .expect("b")
            .priority()
            .expect("priority"),
        10.0
    );
    assert_eq!(
        drain(&fx, &fx.worker("worker")),
        ["spec/d", "spec/c", "spec/b", "spec/a"]
    );
}

/// A batch comes highest unit priority first, then by name, each unit once.
pub fn batch_order_and_uniqueness(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    for (name, priority) in [("e", 1.0), ("d", 0.0), ("c", 5.0), ("b", 0.0), ("a", -1.0)] {
        spec.add_work_unit(name, Data::new(), with_priority(priority))
            .expect("add");
    }
    let worker = fx.worker("worker");
    let first = request(&worker, &many(3));
    let labels: Vec<String> = first.iter().map(label).collect();
    assert_eq!(labels, ["spec/c", "spec/e", "spec/b"]);
    let rest = request(&worker, &many(10));
    let labels: Vec<String> = rest.iter().map(label).collect();
    assert_eq!(labels, ["spec/d", "spec/a"]);
    assert!(request(&worker, &many(10)).is_empty());
    for attempt in first.iter().chain(&rest) {
        assert_eq!(
            attempt.work_unit().status().expect("status"),
            WorkUnitStatus::Pending
        );
    }
}

/// Batches come in priority and name order even when the units were added
/// in the reverse order.
pub fn batch_order_ignores_insertion_order(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let names: Vec<String> = (0..40).rev().map(|i| format!("u{i:02}")).collect();
    for (i, name) in names.iter().enumerate() {
        let priority = if i % 3 == 0 { 1.0 } else { 0.0 };
        spec.add_work_unit(name, Data::new(), with_priority(priority))
            .expect("add");
    }
    let mut expected: Vec<(bool, String)> = names
        .iter()
        .enumerate()
        .map(|(i, name)| (i % 3 != 0, format!("spec/{name}")))
        .collect();
    expected.sort();
    let expected: Vec<String> = expected.into_iter().map(|(_, label)| label).collect();
    let worker = fx.worker("worker");
    // Batches of several sizes, since the database may plan each size
    // differently.
    let mut labels = Vec::new();
    for size in [2, 3, 5, 10, 20] {
        let batch = request(&worker, &many(size));
        assert_eq!(batch.len(), size);
        labels.extend(batch.iter().map(label));
    }
    assert_eq!(labels, expected);
}

/// A unit with a future not-before is delayed, then available (go: TestNotBeforeDelayedStatus).
pub fn not_before_delayed_status(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let then = fx.clock.now() + chrono::Duration::seconds(5);
    let unit = spec
        .add_work_unit(
            "unit",
            Data::new(),
            WorkUnitMeta {
                priority: 0.0,
                not_before: Some(then),
            },
        )
        .expect("add");
    assert_eq!(unit.status().expect("status"), WorkUnitStatus::Delayed);
    fx.clock.advance(Duration::from_secs(10));
    assert_eq!(unit.status().expect("status"), WorkUnitStatus::Available);
}

/// A delayed unit is not handed out until its time comes (go: TestNotBeforeAttempt).
pub fn not_before_attempt(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let then = fx.clock.now() + chrono::Duration::seconds(60);
    spec.add_work_unit(
        "unit",
        Data::new(),
        WorkUnitMeta {
            priority: 0.0,
            not_before: Some(then),
        },
    )
    .expect("add");
    let worker = fx.worker("worker");
    assert!(drain(&fx, &worker).is_empty());
    fx.clock.advance(Duration::from_secs(120));
    assert_eq!(drain(&fx, &worker), ["spec/unit"]);
}

/// A lower-priority unit runs while a higher-priority one is delayed (go: TestNotBeforePriority).
pub fn not_before_priority(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let then = fx.clock.now() + chrono::Duration::seconds(60);
    fx.unit(&spec, "first");
    spec.add_work_unit(
        "second",
        Data::new(),
        WorkUnitMeta {
            priority: 10.0,
            not_before: Some(then),
        },
    )
    .expect("add");
    let worker = fx.worker("worker");
    assert_eq!(drain(&fx, &worker), ["spec/first"]);
    fx.clock.advance(Duration::from_secs(60));
    assert_eq!(drain(&fx, &worker), ["spec/second"]);
}

/// Chained output with a `delay` becomes available only after it (go: TestDelayedOutput).
pub fn delayed_output(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let one = fx.spec("one", &[("then", Value::Text("two".into()))]);
    fx.spec("two", &[]);
    fx.unit(&one, "unit");
    let worker = fx.worker("worker");
    let got = request(&worker, &AttemptRequest::default());
    assert_eq!(got.len(), 1);
    assert_eq!(label(&got[0]), "one/unit");
    let item = Value::Array(vec![
        Value::Text("u2".into()),
        Value::Map(Default::default()),
        Value::Map([(Value::Text("delay".into()), Value::Integer(90))].into()),
    ]);
    let output = Data::from([("output".to_owned(), Value::Array(vec![item]))]);
    got[0].finish(Some(output)).expect("finish");

    fx.clock.advance(Duration::from_secs(5));
    assert!(request(&worker, &AttemptRequest::default()).is_empty());
    fx.clock.advance(Duration::from_secs(120));
    assert_eq!(drain(&fx, &worker), ["two/u2"]);
}
