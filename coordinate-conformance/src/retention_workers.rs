//! History retention of workers: `Namespace::prune` removes inactive
//! workers that expired before the cutoff and have no attempts left.

use std::sync::Arc;

use coordinate_api::{Clock, Data, PruneRequest, Pruned, Worker};

use crate::chaining::names;
use crate::gone::worker_is_gone;
use crate::retention_fixture::DAY;
use crate::{Backend, Fixture};

/// Makes a worker that reported last at the current time, with a report
/// good for `valid`, and is then marked inactive if `inactive`.
fn reported(
    fx: &Fixture,
    name: &str,
    valid: std::time::Duration,
    inactive: bool,
) -> Arc<dyn Worker> {
    let worker = fx.worker(name);
    let now = fx.clock.now();
    worker
        .update(
            Data::new(),
            now,
            now + chrono::Duration::from_std(valid).unwrap(),
            "run",
        )
        .expect("update");
    if inactive {
        worker.deactivate().expect("deactivate");
    }
    worker
}

/// Names of the namespace's workers, in order.
fn worker_names(fx: &Fixture) -> Vec<String> {
    fx.namespace
        .workers()
        .expect("workers")
        .iter()
        .map(|w| w.name().to_owned())
        .collect()
}

/// Only inactive workers past their expiration and without attempts go;
/// their handles are gone, their children stay without a parent, and the
/// name makes a new worker again.
pub fn prune_removes_only_dead_workers(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let hour = std::time::Duration::from_secs(3600);
    let alive = fx.worker("alive");
    reported(&fx, "active-expired", hour, false);
    reported(&fx, "inactive-current", 30 * DAY, true);
    let dead = reported(&fx, "dead", hour, true);
    let parent = reported(&fx, "dead-parent", hour, true);
    let child = reported(&fx, "living-child", 30 * DAY, false);
    child.set_parent(Some(parent.clone())).expect("set_parent");
    let holder = reported(&fx, "dead-holding", hour, true);
    let held = fx.unit(&spec, "held");
    holder.make_attempt(held.clone(), 60 * DAY).expect("hold");
    let historian = reported(&fx, "dead-with-history", hour, true);
    let kept = fx.unit(&spec, "kept");
    historian
        .make_attempt(kept, DAY)
        .and_then(|a| a.finish(None))
        .expect("finish");
    fx.clock.advance(DAY);
    let request = PruneRequest::default().workers_expired_before(fx.clock.now());
    assert_eq!(
        fx.namespace.count_prunable(&request).unwrap(),
        Pruned {
            work_units: 0,
            workers: 2
        }
    );
    assert_eq!(
        fx.namespace.prune(&request).unwrap(),
        Pruned {
            work_units: 0,
            workers: 2
        }
    );
    assert_eq!(
        worker_names(&fx),
        [
            "active-expired",
            "alive",
            "dead-holding",
            "dead-with-history",
            "inactive-current",
            "living-child",
        ]
    );
    let now = fx.clock.now();
    worker_is_gone(dead.as_ref(), fx.unit(&spec, "probe"), now);
    worker_is_gone(parent.as_ref(), fx.unit(&spec, "probe"), now);
    assert!(
        child.parent().unwrap().is_none(),
        "the child lost its parent"
    );
    assert!(child.active().unwrap());
    assert_eq!(holder.active_attempts().unwrap().len(), 1);
    assert_eq!(historian.all_attempts().unwrap().len(), 1);
    assert!(alive.active().unwrap());
    let again = fx.worker("dead");
    assert!(again.active().unwrap(), "a new worker of the name");
    assert!(again.all_attempts().unwrap().is_empty());
    assert_eq!(fx.namespace.prune(&request).unwrap().total(), 0);
}

/// A dead worker whose last attempts go with their units goes in the same
/// call; `count_prunable` counts workers as they stand.
pub fn workers_go_with_their_last_units(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let hour = std::time::Duration::from_secs(3600);
    let done = reported(&fx, "done", hour, true);
    let mixed = reported(&fx, "mixed", hour, true);
    for (worker, unit) in [(&done, "old-1"), (&done, "old-2"), (&mixed, "old-3")] {
        let unit = fx.unit(&spec, unit);
        worker
            .make_attempt(unit, DAY)
            .unwrap()
            .finish(None)
            .unwrap();
    }
    fx.clock.advance(DAY);
    let cutoff = fx.clock.now();
    let young = fx.unit(&spec, "young");
    mixed.make_attempt(young, DAY).unwrap().fail(None).unwrap();
    let request = PruneRequest::default()
        .finished_before(cutoff)
        .failed_before(cutoff)
        .workers_expired_before(cutoff);
    assert_eq!(
        fx.namespace.count_prunable(&request).unwrap(),
        Pruned {
            work_units: 3,
            workers: 0
        }
    );
    assert_eq!(
        fx.namespace.prune(&request).unwrap(),
        Pruned {
            work_units: 3,
            workers: 1
        }
    );
    assert_eq!(
        worker_names(&fx),
        ["mixed"],
        "mixed still has the young attempt"
    );
    assert_eq!(names(&spec), ["young"]);
    assert_eq!(mixed.all_attempts().unwrap().len(), 1);
}

/// The limit counts units and workers together, units first.
pub fn prune_limit_counts_workers_too(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let hour = std::time::Duration::from_secs(3600);
    let worker = fx.worker("busy");
    let unit = fx.unit(&spec, "old");
    worker
        .make_attempt(unit, DAY)
        .unwrap()
        .finish(None)
        .unwrap();
    for name in ["dead-a", "dead-b", "dead-c"] {
        reported(&fx, name, hour, true);
    }
    fx.clock.advance(DAY);
    let request = PruneRequest::default()
        .finished_before(fx.clock.now())
        .workers_expired_before(fx.clock.now())
        .limit(2);
    assert_eq!(
        fx.namespace.count_prunable(&request).unwrap(),
        Pruned {
            work_units: 1,
            workers: 1
        }
    );
    let steps: Vec<Pruned> = (0..3)
        .map(|_| fx.namespace.prune(&request).unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            Pruned {
                work_units: 1,
                workers: 1
            },
            Pruned {
                work_units: 0,
                workers: 2
            },
            Pruned::default(),
        ]
    );
    assert_eq!(worker_names(&fx), ["busy"], "busy is still active");
}
