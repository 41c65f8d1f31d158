//! Leases: renewed by the heartbeat, lost to another worker, given up
//! before they run out unrenewed, and maximum run times.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use coordinate_api::definition::WorkSpecDefinition;
use coordinate_api::runtime::{CancelReason, Job, JobError, JobOutcome};
use coordinate_api::{AttemptRequest, AttemptStatus, Coordinate, MockClock, WorkUnitStatus};
use coordinate_memory::MemoryCoordinate;

use crate::common::{add_units, count, namespace, quick, wait_until, Flaky};

/// What a cancelled handler saw: the reason and how long it had run.
type Seen = Arc<Mutex<Option<(CancelReason, Duration)>>>;

/// A handler that waits until it is cancelled (at most 30 s) and records
/// why and when.
fn until_cancelled(seen: Seen) -> impl Fn(&Job) -> Result<JobOutcome, JobError> + Send + Sync {
    move |job: &Job| {
        if let Err(cancelled) = job.sleep(Duration::from_secs(30)) {
            *seen.lock().unwrap() = Some((cancelled.0, job.elapsed()));
            return Err(cancelled.into());
        }
        Ok(JobOutcome::finish())
    }
}

#[test]
fn the_heartbeat_keeps_a_slow_unit_leased() {
    let ns = namespace(&[WorkSpecDefinition::new("s")]);
    add_units(ns.as_ref(), "s", "u", 1);
    let flaky = Flaky::new(ns.clone());
    // The handler runs for more than three leases.
    let runtime = quick(flaky.clone())
        .handler("s", |job: &Job| {
            job.sleep(Duration::from_millis(2000))?;
            Ok(JobOutcome::finish())
        })
        .start()
        .unwrap();
    wait_until("the handler runs", || runtime.stats().running == 1);
    let thief = ns.worker("thief").unwrap();
    let stolen = std::cell::Cell::new(0);
    wait_until("the slow unit finished", || {
        let taken = thief.request_attempts(&AttemptRequest::default()).unwrap();
        stolen.set(stolen.get() + taken.len());
        runtime.stats().finished == 1
    });
    let stolen = stolen.get();
    runtime.shutdown();
    let report = runtime.wait();
    assert_eq!(
        stolen, 0,
        "another worker took a unit whose lease was renewed"
    );
    assert_eq!(report.totals.lost_leases, 0);
    assert!(
        flaky.renewals.load(Ordering::SeqCst) >= 2,
        "renewed through the runtime's own loop"
    );
}

#[test]
fn a_lease_lost_to_another_worker_cancels_the_handler_and_drops_its_result() {
    let clock = Arc::new(MockClock::default());
    let coordinate = MemoryCoordinate::with_clock(clock.clone());
    let ns = coordinate.namespace("runtime").unwrap();
    ns.set_work_spec(WorkSpecDefinition::new("s").into())
        .unwrap();
    add_units(ns.as_ref(), "s", "u", 1);
    let seen = Seen::default();
    // One executor: while it is busy the runtime claims nothing, so the
    // other worker is the one that takes the expired unit.
    let runtime = quick(ns.clone())
        .concurrency(1)
        .handler("s", until_cancelled(seen.clone()))
        .start()
        .unwrap();
    wait_until("the handler runs", || runtime.stats().running == 1);

    // The lease runs out on the store's clock, and another worker takes the unit.
    clock.advance(Duration::from_secs(3600));
    let thief = ns.worker("thief").unwrap();
    let taken = thief.request_attempts(&AttemptRequest::default()).unwrap();
    assert_eq!(taken.len(), 1);

    wait_until("the runtime noticed", || runtime.stats().lost_leases == 1);
    wait_until("the handler stopped", || runtime.stats().running == 0);
    assert_eq!(
        seen.lock().unwrap().map(|(reason, _)| reason),
        Some(CancelReason::LeaseLost)
    );
    runtime.shutdown();
    let report = runtime.wait();
    assert_eq!(
        report.totals.finished + report.totals.retried + report.totals.failed,
        0
    );
    assert_eq!(
        taken[0].status().unwrap(),
        AttemptStatus::Pending,
        "the new lease is untouched"
    );
    assert_eq!(count(ns.as_ref(), "s", WorkUnitStatus::Pending), 1);
}

#[test]
fn a_lease_that_cannot_be_renewed_is_given_up_before_it_runs_out() {
    let ns = namespace(&[WorkSpecDefinition::new("s")]);
    add_units(ns.as_ref(), "s", "u", 1);
    let flaky = Flaky::new(ns.clone());
    flaky.fail_renewals.store(true, Ordering::SeqCst);
    let lease = Duration::from_millis(1200);
    let seen = Seen::default();
    let runtime = quick(flaky.clone())
        .lease(lease)
        .handler("s", until_cancelled(seen.clone()))
        .start()
        .unwrap();
    wait_until("the handler was cancelled", || {
        seen.lock().unwrap().is_some()
    });
    let (reason, ran) = seen.lock().unwrap().unwrap();
    assert_eq!(reason, CancelReason::LeaseLost);
    assert!(
        ran < lease,
        "cancelled after {ran:?}, the lease was {lease:?}"
    );
    wait_until("the handler stopped", || runtime.stats().running == 0);
    runtime.shutdown();
    let report = runtime.wait();
    assert_eq!(report.totals.lost_leases, 1);
    assert_eq!(
        report.totals.retried + report.totals.failed,
        0,
        "its result was not applied"
    );
}

#[test]
fn a_handler_past_its_maximum_run_time_is_cancelled() {
    let ns = namespace(&[WorkSpecDefinition::new("s")]);
    add_units(ns.as_ref(), "s", "u", 1);
    let seen = Seen::default();
    let runtime = quick(ns.clone())
        .max_attempts(1)
        .handler("s", until_cancelled(seen.clone()))
        .max_run_time("s", Duration::from_millis(200))
        .start()
        .unwrap();
    wait_until("the unit failed", || runtime.stats().failed == 1);
    runtime.shutdown();
    runtime.wait();
    let (reason, ran) = seen.lock().unwrap().unwrap();
    assert_eq!(reason, CancelReason::Deadline);
    assert!(
        ran >= Duration::from_millis(200),
        "cancelled early, after {ran:?}"
    );
    assert_eq!(count(ns.as_ref(), "s", WorkUnitStatus::Failed), 1);
}

#[test]
fn a_result_for_a_unit_deleted_meanwhile_counts_as_a_lost_lease() {
    let ns = namespace(&[WorkSpecDefinition::new("s")]);
    add_units(ns.as_ref(), "s", "u", 1);
    let (started, running) = std::sync::mpsc::channel();
    let (carry_on, go) = std::sync::mpsc::channel::<()>();
    let go = Mutex::new(go);
    let runtime = quick(ns.clone())
        .handler("s", move |_: &Job| {
            let _ = started.send(());
            let _ = go.lock().unwrap().recv_timeout(Duration::from_secs(10));
            Ok(JobOutcome::finish())
        })
        .start()
        .unwrap();
    running
        .recv_timeout(Duration::from_secs(10))
        .expect("the handler runs");
    let deleted = ns
        .work_spec("s")
        .unwrap()
        .delete_work_units(&coordinate_api::WorkUnitQuery::all())
        .unwrap();
    assert_eq!(deleted, 1);
    carry_on.send(()).unwrap();
    wait_until("the result is settled", || runtime.stats().lost_leases == 1);
    runtime.shutdown();
    let report = runtime.wait();
    assert_eq!((report.totals.finished, report.totals.refused), (0, 0));
}

/// Starts a runtime with a long lease (no heartbeat for 20 s) whose one
/// handler waits to be cancelled, expires its attempt from outside, and
/// returns how the handler was stopped and how long after the expiry.
fn cancelled_from_outside(
    namespace: Arc<dyn coordinate_api::Namespace>,
    store: &dyn coordinate_api::Namespace,
    poll: Option<Duration>,
) -> (CancelReason, Duration, u64) {
    add_units(store, "s", "u", 1);
    let seen: Seen = Arc::default();
    let mut builder = quick(namespace)
        .lease(Duration::from_secs(60))
        .handler("s", until_cancelled(seen.clone()));
    if let Some(poll) = poll {
        builder = builder.cancellation_poll(poll);
    }
    let runtime = builder.start().unwrap();
    wait_until("the handler runs", || runtime.stats().running == 1);
    let unit = store.work_spec("s").unwrap().work_unit("u0").unwrap();
    let attempt = unit.active_attempt().unwrap().expect("held");
    let expired = std::time::Instant::now();
    attempt.expire(None).unwrap();
    wait_until("the handler is cancelled", || {
        seen.lock().unwrap().is_some()
    });
    let took = expired.elapsed();
    let reason = seen.lock().unwrap().expect("seen").0;
    runtime.shutdown();
    let report = runtime.wait();
    (reason, took, report.totals.lost_leases)
}

#[test]
fn an_attempt_expired_from_outside_cancels_its_handler_at_once() {
    let ns = namespace(&[WorkSpecDefinition::new("s")]);
    let (reason, took, lost) = cancelled_from_outside(ns.clone(), ns.as_ref(), None);
    assert_eq!(reason, CancelReason::LeaseLost);
    assert_eq!(lost, 1);
    // Not the heartbeat (20 s away): the backend told the runtime.
    assert!(took < Duration::from_secs(5), "cancelled after {took:?}");
    assert_eq!(count(ns.as_ref(), "s", WorkUnitStatus::Available), 1);
}

#[test]
fn where_the_backend_cannot_tell_a_renewal_finds_the_cancellation() {
    let ns = namespace(&[WorkSpecDefinition::new("s")]);
    // Flaky passes no wait_for_cancellation on: the default polls.
    let flaky = Flaky::new(ns.clone());
    let poll = Duration::from_millis(200);
    let (reason, took, _) = cancelled_from_outside(flaky, ns.as_ref(), Some(poll));
    assert_eq!(reason, CancelReason::LeaseLost);
    assert!(took < Duration::from_secs(5), "cancelled after {took:?}");
}
