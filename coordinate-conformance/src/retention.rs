//! History retention of units: `Namespace::prune` removes finished and
//! failed units whose last attempt ended before a cutoff, with their
//! attempts, and nothing else; `count_prunable` counts the same without
//! deleting. Workers are in `retention_workers`.

use chrono::{DateTime, Utc};
use coordinate_api::{AttemptStatus, Clock, Error, PruneRequest, Pruned, Value, WorkUnitStatus};

use crate::chaining::names;
use crate::gone::{attempt_is_gone, unit_is_gone};
use crate::retention_fixture::{ended, invalid, state, End, Zoo, DAY};
use crate::{Backend, Fixture};

/// Only finished and failed units whose last attempt ended before the
/// cutoff go, each status by its own cutoff; every other unit and its
/// attempts stay exactly as they were.
pub fn prune_removes_only_old_terminal_units(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let zoo = Zoo::new(&fx, "history");
    let kept = [
        "available",
        "delayed-old",
        "expired-old",
        "failed-new",
        "finished-new",
        "pending-old",
        "retried-old",
    ];
    let before: Vec<String> = kept.iter().map(|name| state(zoo.unit(name))).collect();
    assert_eq!(
        zoo.unit("delayed-old").status().unwrap(),
        WorkUnitStatus::Delayed
    );
    assert_eq!(
        zoo.unit("pending-old").status().unwrap(),
        WorkUnitStatus::Pending
    );

    let finished = PruneRequest::default().finished_before(zoo.cutoff);
    assert_eq!(
        fx.namespace.prune(&finished).expect("prune finished"),
        Pruned {
            work_units: 1,
            workers: 0
        }
    );
    assert!(!zoo.remaining().contains(&"finished-old".to_owned()));
    assert!(
        zoo.remaining().contains(&"failed-old".to_owned()),
        "failed has its own cutoff"
    );

    let failed = PruneRequest::default().failed_before(zoo.cutoff);
    assert_eq!(
        fx.namespace
            .prune(&failed)
            .expect("prune failed")
            .work_units,
        1
    );
    assert_eq!(zoo.remaining(), kept);
    let after: Vec<String> = kept.iter().map(|name| state(zoo.unit(name))).collect();
    assert_eq!(
        before, after,
        "the units kept and their attempts are untouched"
    );
    assert_eq!(
        zoo.worker.all_attempts().expect("all_attempts").len(),
        kept.len() - 1,
        "the worker keeps the attempts of the units kept ('available' has none)"
    );
    assert_eq!(zoo.worker.active_attempts().expect("active").len(), 1);
    assert_eq!(
        fx.namespace
            .prune(&finished.failed_before(zoo.cutoff))
            .expect("again")
            .total(),
        0,
        "nothing else is that old"
    );
}

/// A cutoff is exclusive: a unit whose attempt ended exactly then stays,
/// and goes one microsecond later.
pub fn prune_cutoff_is_exclusive(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let zoo = Zoo::new(&fx, "edge");
    let ended = zoo.attempts["finished-new"]
        .end_time()
        .unwrap()
        .expect("an end time");
    let at = PruneRequest::default().finished_before(ended);
    assert_eq!(
        fx.namespace.prune(&at).unwrap().work_units,
        1,
        "only finished-old"
    );
    assert_eq!(fx.namespace.prune(&at).unwrap().work_units, 0);
    let later = PruneRequest::default().finished_before(ended + chrono::Duration::microseconds(1));
    assert_eq!(fx.namespace.prune(&later).unwrap().work_units, 1);
    assert!(!zoo.remaining().contains(&"finished-new".to_owned()));
}

/// Handles to pruned units and their attempts are gone; looking the unit
/// up by name finds nothing.
pub fn pruned_handles_are_gone(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let zoo = Zoo::new(&fx, "gone");
    let request = PruneRequest::default()
        .finished_before(zoo.cutoff)
        .failed_before(zoo.cutoff);
    assert_eq!(fx.namespace.prune(&request).unwrap().work_units, 2);
    for name in ["finished-old", "failed-old"] {
        unit_is_gone(zoo.units[name].as_ref());
        attempt_is_gone(zoo.attempts[name].as_ref());
        assert!(
            matches!(zoo.spec.work_unit(name), Err(Error::NoSuchWorkUnit { .. })),
            "{name}"
        );
    }
    // The name is free again: a new unit of it is a new unit.
    let again = fx.unit(&zoo.spec, "finished-old");
    assert_eq!(again.status().unwrap(), WorkUnitStatus::Available);
    assert_eq!(again.num_attempts().unwrap(), 0);
}

/// Units a pruned unit chained into were made when it finished; they are
/// units of their own and stay.
pub fn chained_units_stay(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let first = fx.spec("first", &[("then", Value::Text("second".into()))]);
    let second = fx.spec("second", &[]);
    fx.unit(&first, "source");
    let worker = fx.worker("worker");
    let attempt = worker
        .request_attempts(&coordinate_api::AttemptRequest {
            work_specs: vec!["first".into()],
            ..Default::default()
        })
        .expect("request")
        .pop()
        .expect("an attempt");
    let mut data = coordinate_api::Data::new();
    data.insert(
        "output".into(),
        Value::Array(vec![Value::Text("next".into())]),
    );
    attempt.finish(Some(data)).expect("finish");
    assert_eq!(names(&second), ["next"]);
    // The chained unit finishes too, and is younger than the cutoff.
    let next = second.work_unit("next").unwrap();
    fx.clock.advance(DAY);
    let cutoff = fx.clock.now();
    fx.clock.advance(DAY);
    worker
        .make_attempt(next.clone(), DAY)
        .unwrap()
        .finish(None)
        .unwrap();

    let request = PruneRequest::default().finished_before(cutoff);
    assert_eq!(fx.namespace.count_prunable(&request).unwrap().work_units, 1);
    assert_eq!(fx.namespace.prune(&request).unwrap().work_units, 1);
    assert!(names(&first).is_empty());
    assert_eq!(names(&second), ["next"]);
    assert_eq!(next.status().unwrap(), WorkUnitStatus::Finished);
    assert_eq!(next.num_attempts().unwrap(), 1);
}

/// A call removes at most `limit` units; calls in a row take the rest,
/// and one that finds nothing removes nothing.
pub fn prune_respects_the_limit(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("many", &[]);
    let worker = fx.worker("worker");
    for i in 0..5 {
        ended(&fx, &spec, &worker, &format!("u{i}"), End::Finish);
    }
    fx.unit(&spec, "waiting");
    fx.clock.advance(DAY);
    let request = PruneRequest::default()
        .finished_before(fx.clock.now())
        .limit(2);
    assert_eq!(fx.namespace.count_prunable(&request).unwrap().work_units, 2);
    assert_eq!(
        fx.namespace
            .count_prunable(&request.clone().limit(100))
            .unwrap()
            .work_units,
        5
    );
    let steps: Vec<usize> = (0..4)
        .map(|_| fx.namespace.prune(&request).unwrap().work_units)
        .collect();
    assert_eq!(steps, [2, 2, 1, 0]);
    assert_eq!(names(&spec), ["waiting"]);
}

/// A limited call takes the oldest units first (by the end of their last
/// attempt, not by name).
pub fn prune_takes_the_oldest_first(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("ages", &[]);
    let worker = fx.worker("worker");
    for name in ["c-oldest", "b-middle", "a-newest"] {
        ended(&fx, &spec, &worker, name, End::Finish);
        fx.clock.advance(DAY);
    }
    let request = PruneRequest::default()
        .finished_before(fx.clock.now())
        .limit(1);
    assert_eq!(fx.namespace.prune(&request).unwrap().work_units, 1);
    assert_eq!(names(&spec), ["a-newest", "b-middle"]);
    assert_eq!(fx.namespace.prune(&request).unwrap().work_units, 1);
    assert_eq!(names(&spec), ["a-newest"]);
}

/// `work_specs` limits pruning to those specs; naming a spec that does not
/// exist is NoSuchWorkSpec and removes nothing anywhere.
pub fn prune_by_work_spec(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let kept = Zoo::new(&fx, "kept");
    let cleaned = Zoo::new(&fx, "cleaned");
    let now = fx.clock.now();
    let before = (kept.remaining(), cleaned.remaining());
    let unknown = PruneRequest::default()
        .finished_before(now)
        .work_specs(["cleaned", "missing"]);
    for result in [
        fx.namespace.prune(&unknown),
        fx.namespace.count_prunable(&unknown),
    ] {
        assert!(
            matches!(&result, Err(Error::NoSuchWorkSpec { name }) if name == "missing"),
            "{result:?}"
        );
    }
    assert_eq!((kept.remaining(), cleaned.remaining()), before);

    let request = PruneRequest::default()
        .finished_before(now)
        .failed_before(now)
        .work_specs(["cleaned"]);
    assert_eq!(fx.namespace.prune(&request).unwrap().work_units, 2);
    assert_eq!(kept.remaining(), before.0);
    let mut expected = before.1.clone();
    expected.retain(|name| name != "finished-old" && name != "failed-old");
    assert_eq!(
        cleaned.remaining(),
        expected,
        "finished-new ended at the cutoff itself and stays"
    );
}

/// Bad requests are InvalidInput from both calls and change nothing.
pub fn bad_prune_requests_change_nothing(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let zoo = Zoo::new(&fx, "bad");
    let now = fx.clock.now();
    let before = zoo.remaining();
    let far = DateTime::<Utc>::MAX_UTC;
    let bad = [
        ("no cutoff", PruneRequest::default()),
        (
            "limit 0",
            PruneRequest::default().finished_before(now).limit(0),
        ),
        (
            "specs without a unit cutoff",
            PruneRequest::default()
                .workers_expired_before(now)
                .work_specs(["bad"]),
        ),
        (
            "empty spec name",
            PruneRequest::default().failed_before(now).work_specs([""]),
        ),
        (
            "cutoff out of range",
            PruneRequest::default().finished_before(far),
        ),
        (
            "worker cutoff out of range",
            PruneRequest::default()
                .finished_before(now)
                .workers_expired_before(far),
        ),
    ];
    for (what, request) in bad {
        invalid(what, fx.namespace.prune(&request));
        invalid(what, fx.namespace.count_prunable(&request));
    }
    assert_eq!(zoo.remaining(), before);
    assert_eq!(zoo.worker.all_attempts().unwrap().len(), 8);
}

/// `count_prunable` deletes nothing and counts what `prune` then removes.
pub fn count_prunable_is_a_dry_run(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let zoo = Zoo::new(&fx, "dry");
    let request = PruneRequest::default()
        .finished_before(zoo.cutoff)
        .failed_before(fx.clock.now() + chrono::Duration::seconds(1));
    let before = zoo.remaining();
    let count = fx.namespace.count_prunable(&request).unwrap();
    assert_eq!(
        count,
        Pruned {
            work_units: 3,
            workers: 0
        }
    );
    assert_eq!(fx.namespace.count_prunable(&request).unwrap(), count);
    assert_eq!(zoo.remaining(), before);
    assert_eq!(
        zoo.unit("finished-old").status().unwrap(),
        WorkUnitStatus::Finished
    );
    assert_eq!(
        zoo.attempts["finished-old"].status().unwrap(),
        AttemptStatus::Finished
    );
    assert_eq!(fx.namespace.prune(&request).unwrap(), count);
    assert_eq!(fx.namespace.count_prunable(&request).unwrap().total(), 0);
}

/// Pruning a destroyed namespace is Gone, like every other call on it.
pub fn prune_destroyed_namespace_is_gone(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    Zoo::new(&fx, "doomed");
    fx.namespace.destroy().unwrap();
    let request = PruneRequest::default()
        .finished_before(fx.clock.now())
        .workers_expired_before(fx.clock.now());
    for result in [
        fx.namespace.prune(&request),
        fx.namespace.count_prunable(&request),
    ] {
        assert!(matches!(result, Err(Error::Gone { .. })), "{result:?}");
    }
}
