//! Namespaces are walls: nothing done through one namespace's handles reads
//! or changes another's work specs, units, workers or attempts. Each case
//! fills a second namespace ("theirs") in the same coordinate, works
//! through the case's own, and checks that theirs is exactly as it was.
//!
//! Covered elsewhere, so not repeated here: same-named objects are distinct
//! (`namespace::namespaces_are_isolated`), destroying a namespace
//! (`gone::destroy_touches_only_its_namespace`), `set_parent` across
//! namespaces (`worker::bad_parents_rejected`) and `make_attempt` on another
//! namespace's unit (`worker::make_attempt_other_namespace`).

use std::sync::Arc;
use std::time::Duration;

use coordinate_api::{
    AttemptRequest, AttemptStatus, Clock, Completion, Data, Error, Namespace, Outcome, Value,
    WorkSpec, WorkSpecMeta, WorkUnitMeta, WorkUnitQuery, WorkUnitStatus,
};

use crate::attempt::{request_none, request_one, unit_names};
use crate::{definition, unique_name, Backend, Fixture};

/// The other namespace, destroyed when the case ends, passed or failed.
struct Theirs(Arc<dyn Namespace>);

impl Theirs {
    /// Makes the other namespace with a spec `spec_name` holding units
    /// `a`, `b` and `c` (priority 5, so a scheduler that looked across
    /// namespaces would pick them first).
    fn new(fx: &Fixture, spec_name: &str) -> (Theirs, Arc<dyn WorkSpec>) {
        let namespace = fx
            .coordinate
            .namespace(&unique_name("theirs"))
            .expect("their namespace");
        let theirs = Theirs(namespace);
        let spec = theirs
            .0
            .set_work_spec(definition(spec_name, &[("priority", Value::Integer(5))]))
            .expect("their spec");
        for name in ["a", "b", "c"] {
            let meta = WorkUnitMeta {
                priority: 5.0,
                not_before: None,
            };
            spec.add_work_unit(name, Data::new(), meta)
                .expect("their unit");
        }
        (theirs, spec)
    }
}

impl Drop for Theirs {
    fn drop(&mut self) {
        let _ = self.0.destroy();
    }
}

/// The names, statuses and priorities of a spec's units, for before/after
/// comparisons.
fn snapshot(spec: &dyn WorkSpec) -> Vec<(String, WorkUnitStatus, f64)> {
    spec.work_units(&WorkUnitQuery::all())
        .expect("work_units")
        .iter()
        .map(|u| {
            (
                u.name().to_owned(),
                u.status().expect("status"),
                u.priority().expect("priority"),
            )
        })
        .collect()
}

/// Another namespace's spec and workers cannot be found, listed or destroyed by name.
pub fn lookups_stay_in_namespace(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let (theirs, their_spec) = Theirs::new(&fx, "their-spec");
    let their_worker = theirs.0.worker("their-worker").expect("their worker");

    assert!(matches!(
        fx.namespace.work_spec("their-spec"),
        Err(Error::NoSuchWorkSpec { name }) if name == "their-spec"
    ));
    assert!(matches!(
        fx.namespace.destroy_work_spec("their-spec"),
        Err(Error::NoSuchWorkSpec { .. })
    ));
    assert!(fx.namespace.work_spec_names().expect("names").is_empty());
    assert!(fx.namespace.workers().expect("workers").is_empty());

    // Getting "their-worker" here makes a new worker of this namespace; its
    // updates do not reach theirs.
    let mine = fx.worker("their-worker");
    let now = fx.clock.now();
    let data: Data = [("mine".to_owned(), Value::Bool(true))].into();
    mine.update(data, now, now + chrono::Duration::hours(1), "mine")
        .expect("update");
    assert!(their_worker.data().expect("their data").is_empty());
    assert_ne!(their_worker.mode().expect("their mode"), "mine");
    assert_eq!(their_spec.meta(false).expect("their meta").priority, 5);
}

/// Requests in one namespace never hand out another's units, even when asked for its spec by name.
pub fn requests_stay_in_namespace(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let (_theirs, their_spec) = Theirs::new(&fx, "their-spec");
    let before = snapshot(their_spec.as_ref());
    let worker = fx.worker("worker");

    request_none(worker.as_ref());
    let by_name = AttemptRequest {
        number_of_work_units: 10,
        work_specs: vec!["their-spec".into()],
        ..AttemptRequest::default()
    };
    let got = worker.request_attempts(&by_name).expect("request");
    assert!(got.is_empty(), "got {:?}", unit_names(&got));

    // With work of its own, the worker gets only that, in a batch as
    // large as everything both namespaces hold.
    let mine = fx.spec("mine", &[]);
    fx.unit(&mine, "m");
    let batch = AttemptRequest {
        number_of_work_units: 10,
        ..AttemptRequest::default()
    };
    let got = worker.request_attempts(&batch).expect("request");
    assert_eq!(unit_names(&got), ["m"]);
    assert_eq!(snapshot(their_spec.as_ref()), before);
}

/// Deleting, re-prioritising, pausing, redefining and destroying a same-named spec here leaves theirs intact.
pub fn changes_stay_in_namespace(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let (_theirs, their_spec) = Theirs::new(&fx, "spec");
    let their_data = their_spec.data().expect("their data");
    let before = snapshot(their_spec.as_ref());

    let mine = fx.spec("spec", &[]);
    for name in ["a", "b", "c"] {
        fx.unit(&mine, name);
    }
    let all = WorkUnitQuery::all();
    mine.set_work_unit_priorities(&all, 9.0).expect("set");
    mine.adjust_work_unit_priorities(&all, 1.0).expect("adjust");
    mine.set_meta(WorkSpecMeta {
        paused: true,
        ..WorkSpecMeta::default()
    })
    .expect("set_meta");
    mine.set_data(definition("spec", &[("priority", Value::Integer(1))]))
        .expect("set_data");
    assert_eq!(mine.delete_work_units(&all).expect("delete"), 3);
    fx.namespace.destroy_work_spec("spec").expect("destroy");

    assert_eq!(snapshot(their_spec.as_ref()), before);
    assert_eq!(their_spec.data().expect("their data"), their_data);
    let meta = their_spec.meta(true).expect("their meta");
    assert!(!meta.paused);
    assert_eq!((meta.priority, meta.available_count), (5, 3));
}

/// Summaries of a namespace and its specs count only its own units; the coordinate's names each namespace right.
pub fn summaries_stay_in_namespace(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let (theirs, _their_spec) = Theirs::new(&fx, "spec");
    let mine = fx.spec("spec", &[]);
    fx.unit(&mine, "only");

    let mine_summary = fx.namespace.summarize().expect("summarize");
    assert_eq!(mine_summary.len(), 1, "{mine_summary:?}");
    assert_eq!(mine_summary[0].namespace, fx.namespace.name());
    assert_eq!(mine_summary[0].count, 1);
    let spec_summary = mine.summarize().expect("spec summarize");
    assert_eq!(spec_summary, mine_summary);

    let everything = fx.coordinate.summarize().expect("coordinate summarize");
    let count_in = |namespace: &str| -> usize {
        everything
            .iter()
            .filter(|r| r.namespace == namespace && r.work_spec == "spec")
            .map(|r| r.count)
            .sum()
    };
    assert_eq!(count_in(fx.namespace.name()), 1);
    assert_eq!(count_in(theirs.0.name()), 3);
}

/// Worker attempt lists, children and units never show another namespace's, even for same-named workers.
pub fn attempts_stay_in_namespace(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let (theirs, _their_spec) = Theirs::new(&fx, "spec");
    let their_parent = theirs.0.worker("parent").expect("their parent");
    let their_child = theirs.0.worker("child").expect("their child");
    their_child
        .set_parent(Some(their_parent.clone()))
        .expect("set_parent");
    request_one(their_child.as_ref());

    let parent = fx.worker("parent");
    let child = fx.worker("child");
    assert!(parent.children().expect("children").is_empty());
    assert!(child.parent().expect("parent").is_none());
    assert!(child.active_attempts().expect("active").is_empty());
    assert!(child.all_attempts().expect("all").is_empty());
    assert!(parent.child_attempts().expect("child attempts").is_empty());

    let mine = fx.spec("spec", &[]);
    let unit = fx.unit(&mine, "a");
    assert!(unit.attempts().expect("attempts").is_empty());
    assert!(unit.active_attempt().expect("active").is_none());
    assert_eq!(unit.status().expect("status"), WorkUnitStatus::Available);
}

/// Expiry run by a request in one namespace leaves another's overdue attempts for that namespace to expire.
pub fn expiry_stays_in_namespace(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let (theirs, _their_spec) = Theirs::new(&fx, "spec");
    let minute = AttemptRequest {
        lifetime: Duration::from_secs(60),
        ..AttemptRequest::default()
    };
    let their_worker = theirs.0.worker("worker").expect("their worker");
    let their_attempt = their_worker
        .request_attempts(&minute)
        .expect("their request")
        .pop()
        .expect("their attempt");
    let mine = fx.spec("spec", &[]);
    fx.unit(&mine, "m");
    let my_attempt = fx
        .worker("worker")
        .request_attempts(&minute)
        .expect("request")
        .pop()
        .expect("my attempt");

    // Both leases run out; a request here expires this namespace's only.
    fx.clock.advance(Duration::from_secs(120));
    let expired_here = fx.clock.now();
    let again = request_one(fx.worker("other").as_ref());
    assert_eq!(again.work_unit().name(), "m");
    assert_eq!(my_attempt.status().expect("status"), AttemptStatus::Expired);
    assert_eq!(my_attempt.end_time().expect("end"), Some(expired_here));

    // Their attempt expires only when their namespace is worked on, later:
    // its end time shows when that happened.
    fx.clock.advance(Duration::from_secs(30));
    let expired_there = fx.clock.now();
    assert_eq!(
        their_attempt.status().expect("their status"),
        AttemptStatus::Expired
    );
    assert_eq!(
        their_attempt.end_time().expect("their end"),
        Some(expired_there)
    );
}

/// Handles of a second coordinate are refused by every call that takes a
/// second handle (`set_parent`, `make_attempt`, `complete_attempts`,
/// `renew_attempts`) with the wrong-namespace error, and nothing changes.
/// The second coordinate opens a namespace of the same name: on a database
/// both share, the very same row and id, so only the rule "same
/// coordinate, same id" tells them apart.
pub fn handles_of_another_coordinate_are_refused(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let second = backend(fx.clock.clone(), fx.seed);
    let theirs = second
        .namespace(fx.namespace.name())
        .expect("the same namespace name in the second coordinate");
    let their_spec = theirs
        .set_work_spec(definition("s", &[]))
        .expect("their spec");
    let held = their_spec
        .add_work_unit("held", Data::new(), WorkUnitMeta::default())
        .expect("a unit to hold");
    let free = their_spec
        .add_work_unit("free", Data::new(), WorkUnitMeta::default())
        .expect("a unit to leave alone");
    let their_worker = theirs.worker("theirs").expect("their worker");
    let attempt = their_worker
        .make_attempt(held.clone(), Duration::from_secs(60))
        .expect("their attempt");
    let expiration = attempt.expiration_time().expect("expiration");
    let ours = fx.worker("ours");

    let refused = |result: Result<(), Error>, what: &str| match result {
        Err(Error::InvalidInput { what: got, .. }) if got == what => {}
        other => panic!("expected InvalidInput about {what}, got {other:?}"),
    };
    refused(ours.set_parent(Some(their_worker.clone())), "parent");
    assert!(ours.parent().expect("parent").is_none(), "no parent set");

    refused(
        ours.make_attempt(free.clone(), Duration::from_secs(60))
            .map(drop),
        "work unit",
    );
    assert_eq!(free.status().expect("status"), WorkUnitStatus::Available);
    assert!(ours.all_attempts().expect("attempts").is_empty());

    let completed = fx
        .namespace
        .complete_attempts(&[Completion::new(attempt.clone(), Outcome::Finish(None))])
        .expect("complete_attempts answers per entry");
    refused(completed.into_iter().next().expect("one answer"), "attempt");
    let renewed = fx
        .namespace
        .renew_attempts(std::slice::from_ref(&attempt), Duration::from_secs(3600))
        .expect("renew_attempts answers per entry");
    refused(renewed.into_iter().next().expect("one answer"), "attempt");
    assert_eq!(attempt.status().expect("status"), AttemptStatus::Pending);
    assert_eq!(attempt.expiration_time().expect("expiration"), expiration);
    assert_eq!(held.status().expect("status"), WorkUnitStatus::Pending);
}
