//! `Namespace::wait_for_cancellation`: a runtime holding an attempt hears
//! at once when someone else takes it from its worker (expires it, clears
//! its unit's active attempt, deletes or re-adds the unit), and hears
//! nothing when attempts merely end.

use std::sync::Arc;
use std::time::{Duration, Instant};

use coordinate_api::{
    Attempt, AttemptRequest, Data, Namespace, Wakeup, WorkSpec, WorkUnitMeta, WorkUnitQuery,
};

use crate::wakeup::{settle_wait, woken_in, PATIENCE};
use crate::{Backend, Fixture};

/// `Namespace::wait_for_cancellation`, as a [`Wait`].
fn for_cancellation(
    namespace: &dyn Namespace,
    timeout: Duration,
) -> coordinate_api::Result<Wakeup> {
    namespace.wait_for_cancellation(timeout)
}

/// Adds work spec `spec` with one unit `u` and claims it for worker `w`.
fn held(fx: &Fixture, spec: &str) -> (Arc<dyn WorkSpec>, Arc<dyn Attempt>) {
    let work_spec = fx.spec(spec, &[]);
    fx.unit(&work_spec, "u");
    let mut attempts = fx
        .worker("w")
        .request_attempts(&AttemptRequest {
            work_specs: vec![spec.to_owned()],
            ..AttemptRequest::default()
        })
        .expect("claim");
    assert_eq!(attempts.len(), 1, "claimed the unit of {spec}");
    (work_spec, attempts.remove(0))
}

/// Expiring someone's pending attempt tells the holders.
pub fn expiring_a_held_attempt_tells_its_holders(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let (_, attempt) = held(&fx, "spec");
    woken_in(&fx.namespace, for_cancellation, || {
        attempt.expire(None).expect("expire")
    });
}

/// Clearing, deleting or re-adding a held unit tells the holders.
pub fn clearing_deleting_or_re_adding_a_held_unit_tells_its_holders(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let (_, attempt) = held(&fx, "cleared");
    woken_in(&fx.namespace, for_cancellation, || {
        attempt.work_unit().clear_active_attempt().expect("clear")
    });
    let (spec, _) = held(&fx, "deleted");
    woken_in(&fx.namespace, for_cancellation, || {
        let deleted = spec
            .delete_work_units(&WorkUnitQuery::all())
            .expect("delete");
        assert_eq!(deleted, 1);
    });
    let (spec, _) = held(&fx, "re-added");
    woken_in(&fx.namespace, for_cancellation, || {
        spec.add_work_unit("u", Data::new(), WorkUnitMeta::default())
            .expect("re-add");
    });
}

/// An attempt taken while nobody waits wakes the next wait at once: a
/// runtime between two waits (renewing, say) must not miss it and hold a
/// lost lease until its next heartbeat.
pub fn an_attempt_taken_between_two_waits_wakes_the_next(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let (_, attempt) = held(&fx, "spec");
    // The last of these waits timed out: the namespace handle has waited.
    settle_wait(&fx.namespace, for_cancellation);
    attempt.expire(None).expect("expire");
    let started = Instant::now();
    let wakeup = fx
        .namespace
        .wait_for_cancellation(PATIENCE)
        .expect("wait_for_cancellation");
    assert_eq!(wakeup, Wakeup::Woken);
    assert!(
        started.elapsed() < PATIENCE / 2,
        "woken only after {:?}",
        started.elapsed()
    );
}

/// Attempts that end as their workers say (finish, fail, retry) and new
/// units tell nobody: the wait times out.
pub fn ending_attempts_and_adding_units_tell_no_holder(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let (spec, finished) = held(&fx, "finished");
    let (_, failed) = held(&fx, "failed");
    settle_wait(&fx.namespace, for_cancellation);
    let timeout = Duration::from_millis(300);
    let waiter = {
        let namespace = fx.namespace.clone();
        std::thread::spawn(move || {
            let started = Instant::now();
            (namespace.wait_for_cancellation(timeout), started.elapsed())
        })
    };
    std::thread::sleep(Duration::from_millis(50));
    finished.finish(None).expect("finish");
    failed.fail(None).expect("fail");
    fx.unit(&spec, "new");
    let (wakeup, waited) = waiter.join().expect("waiter thread");
    assert_eq!(wakeup.expect("wait_for_cancellation"), Wakeup::TimedOut);
    assert!(waited >= timeout, "returned after {waited:?}");
}
