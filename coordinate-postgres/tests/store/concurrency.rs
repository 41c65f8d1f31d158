//! Many workers at once, and objects deleted under live handles.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use coordinate_api::{
    AttemptRequest, AttemptStatus, Data, Error, Value, WorkUnitMeta, WorkUnitQuery, WorkUnitStatus,
};

use crate::common::{coordinate, spec, unique};

/// Threads in two "processes" (coordinates with their own pools) claim
/// every unit of a work spec; no unit may be handed out twice.
#[test]
fn concurrent_claims_never_share_a_unit() {
    const UNITS: usize = 600;
    const THREADS: usize = 8;
    let coordinates = [coordinate(), coordinate()];
    let name = unique("claims");
    let namespace = coordinates[0].namespace(&name).unwrap();
    let work_spec = namespace.set_work_spec(spec("s", &[])).unwrap();
    for i in 0..UNITS {
        work_spec
            .add_work_unit(&format!("u{i:04}"), Data::new(), WorkUnitMeta::default())
            .unwrap();
    }
    let claimed = Mutex::new(BTreeMap::<String, usize>::new());
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let (coordinates, claimed, name) = (&coordinates, &claimed, &name);
            scope.spawn(move || {
                let namespace = coordinates[t % 2].namespace(name).unwrap();
                let worker = namespace.worker(&format!("worker-{t}")).unwrap();
                let request = AttemptRequest {
                    number_of_work_units: 1 + t % 4,
                    ..AttemptRequest::default()
                };
                loop {
                    let attempts = worker.request_attempts(&request).unwrap();
                    if attempts.is_empty() {
                        break;
                    }
                    for attempt in attempts {
                        *claimed
                            .lock()
                            .unwrap()
                            .entry(attempt.work_unit().name().to_owned())
                            .or_default() += 1;
                        attempt.finish(None).unwrap();
                    }
                }
            });
        }
    });
    let claimed = claimed.into_inner().unwrap();
    assert_eq!(claimed.len(), UNITS, "every unit was handed out");
    let twice: Vec<_> = claimed.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "handed out more than once: {twice:?}");
    let counts = work_spec.count_work_unit_status().unwrap();
    assert_eq!(counts.get(&WorkUnitStatus::Finished), Some(&UNITS));
    namespace.destroy().unwrap();
}

/// max_running holds even when many workers ask at once.
#[test]
fn max_running_holds_under_concurrency() {
    let coordinate = coordinate();
    let namespace = coordinate.namespace(&unique("capped")).unwrap();
    let work_spec = namespace
        .set_work_spec(spec("s", &[("max_running", Value::Integer(3))]))
        .unwrap();
    for i in 0..50 {
        work_spec
            .add_work_unit(&format!("u{i}"), Data::new(), WorkUnitMeta::default())
            .unwrap();
    }
    let total = Mutex::new(0);
    std::thread::scope(|scope| {
        for t in 0..6 {
            let (namespace, total) = (&namespace, &total);
            scope.spawn(move || {
                let worker = namespace.worker(&format!("w{t}")).unwrap();
                let request = AttemptRequest {
                    number_of_work_units: 2,
                    ..AttemptRequest::default()
                };
                *total.lock().unwrap() += worker.request_attempts(&request).unwrap().len();
            });
        }
    });
    assert_eq!(*total.lock().unwrap(), 3);
    assert_eq!(work_spec.meta(true).unwrap().pending_count, 3);
    namespace.destroy().unwrap();
}

/// Another process deletes the namespace; every handle then reports Gone
/// (and list calls on the namespace return nothing).
#[test]
fn handles_report_gone_after_a_concurrent_delete() {
    let (mine, theirs) = (coordinate(), coordinate());
    let name = unique("gone");
    let namespace = mine.namespace(&name).unwrap();
    let work_spec = namespace.set_work_spec(spec("s", &[])).unwrap();
    let unit = work_spec
        .add_work_unit("u", Data::new(), WorkUnitMeta::default())
        .unwrap();
    let worker = namespace.worker("w").unwrap();
    let attempt = worker
        .request_attempts(&AttemptRequest::default())
        .unwrap()
        .remove(0);

    theirs.namespace(&name).unwrap().destroy().unwrap();

    let gone = |result: Result<(), Error>, what: &str| {
        assert!(
            matches!(result, Err(Error::Gone { .. })),
            "{what}: {result:?}"
        );
    };
    gone(unit.status().map(drop), "unit.status");
    gone(unit.data().map(drop), "unit.data");
    gone(unit.set_priority(1.0), "unit.set_priority");
    gone(unit.attempts().map(drop), "unit.attempts");
    gone(work_spec.data().map(drop), "spec.data");
    gone(work_spec.meta(true).map(drop), "spec.meta");
    gone(
        work_spec
            .add_work_unit("v", Data::new(), WorkUnitMeta::default())
            .map(drop),
        "spec.add_work_unit",
    );
    gone(
        work_spec.work_units(&WorkUnitQuery::all()).map(drop),
        "spec.work_units",
    );
    gone(
        namespace.set_work_spec(spec("t", &[])).map(drop),
        "set_work_spec",
    );
    gone(namespace.work_spec("s").map(drop), "namespace.work_spec");
    gone(namespace.worker("w2").map(drop), "namespace.worker");
    gone(
        worker
            .request_attempts(&AttemptRequest::default())
            .map(drop),
        "request_attempts",
    );
    gone(worker.active_attempts().map(drop), "worker.active_attempts");
    gone(attempt.status().map(drop), "attempt.status");
    gone(attempt.finish(None), "attempt.finish");
    gone(
        attempt.renew(Duration::from_secs(60), None),
        "attempt.renew",
    );
    assert!(namespace.work_spec_names().unwrap().is_empty());
    assert!(namespace.workers().unwrap().is_empty());
    assert!(namespace.summarize().unwrap().is_empty());
    namespace.destroy().unwrap();
}

/// Deleting units while workers claim and finish them: every call either
/// succeeds or reports Gone, and nothing is left pending.
#[test]
fn deleting_while_claiming_is_safe() {
    let coordinate = coordinate();
    let namespace = coordinate.namespace(&unique("churn")).unwrap();
    let work_spec = namespace.set_work_spec(spec("s", &[])).unwrap();
    for i in 0..300 {
        work_spec
            .add_work_unit(&format!("u{i:03}"), Data::new(), WorkUnitMeta::default())
            .unwrap();
    }
    let work_spec = Arc::new(work_spec);
    std::thread::scope(|scope| {
        for t in 0..4 {
            let namespace = &namespace;
            scope.spawn(move || {
                let worker = namespace.worker(&format!("w{t}")).unwrap();
                loop {
                    let attempts = worker.request_attempts(&AttemptRequest::default()).unwrap();
                    if attempts.is_empty() {
                        break;
                    }
                    for attempt in attempts {
                        match attempt.finish(None) {
                            Ok(()) | Err(Error::Gone { .. }) => {}
                            Err(other) => panic!("finish: {other}"),
                        }
                    }
                }
            });
        }
        let work_spec = &work_spec;
        scope.spawn(move || {
            for i in (0..300).step_by(3) {
                let query = WorkUnitQuery::names([format!("u{i:03}")]);
                work_spec.delete_work_units(&query).unwrap();
            }
        });
    });
    let counts = work_spec.count_work_unit_status().unwrap();
    assert_eq!(counts.get(&WorkUnitStatus::Pending), None, "{counts:?}");
    assert_eq!(counts.get(&WorkUnitStatus::Available), None, "{counts:?}");
    for attempt in namespace.worker("w0").unwrap().all_attempts().unwrap() {
        assert_eq!(attempt.status().unwrap(), AttemptStatus::Finished);
    }
    namespace.destroy().unwrap();
}
