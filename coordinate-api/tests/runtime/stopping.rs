//! Stopping: prefetched units given back, the grace period, abandoned
//! handlers, worker records.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use coordinate_api::definition::WorkSpecDefinition;
use coordinate_api::runtime::{CancelReason, Job, JobOutcome};
use coordinate_api::{Value, WorkUnitStatus};

use crate::common::{add_units, count, namespace, quick, statuses, wait_until};

#[test]
fn prefetched_units_are_given_back_and_running_ones_finish_within_the_grace() {
    let ns = namespace(&[WorkSpecDefinition::new("s")]);
    add_units(ns.as_ref(), "s", "u", 6);
    let runtime = quick(ns.clone())
        .concurrency(1)
        .prefetch(5)
        .handler("s", |job: &Job| {
            job.sleep(Duration::from_millis(300))?;
            Ok(JobOutcome::finish())
        })
        .start()
        .unwrap();
    wait_until("one runs and five wait", || {
        let stats = runtime.stats();
        stats.running == 1 && stats.queued == 5
    });
    runtime.shutdown();
    let report = runtime.wait();
    assert_eq!(
        report.totals.finished, 1,
        "the running one had time to finish"
    );
    assert_eq!(report.totals.released, 5);
    assert_eq!(report.totals.abandoned, 0);
    assert_eq!(
        count(ns.as_ref(), "s", WorkUnitStatus::Available),
        5,
        "{:?}",
        statuses(ns.as_ref(), "s")
    );
    assert_eq!(count(ns.as_ref(), "s", WorkUnitStatus::Finished), 1);
}

#[test]
fn after_the_grace_handlers_are_cancelled_and_their_units_given_back() {
    let ns = namespace(&[WorkSpecDefinition::new("s")]);
    add_units(ns.as_ref(), "s", "u", 2);
    let runtime = quick(ns.clone())
        .concurrency(2)
        .grace(Duration::from_millis(200))
        .handler("s", |job: &Job| {
            job.sleep(Duration::from_secs(30))?;
            Ok(JobOutcome::finish())
        })
        .start()
        .unwrap();
    wait_until("both run", || runtime.stats().running == 2);
    let asked = Instant::now();
    runtime.shutdown();
    let report = runtime.wait();
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "the stop took {:?}",
        asked.elapsed()
    );
    assert_eq!(report.totals.released, 2, "{report:?}");
    assert_eq!((report.totals.retried, report.totals.abandoned), (0, 0));
    assert_eq!(count(ns.as_ref(), "s", WorkUnitStatus::Available), 2);
}

#[test]
fn a_handler_that_ignores_cancellation_is_abandoned_and_its_unit_given_back() {
    let ns = namespace(&[WorkSpecDefinition::new("s")]);
    add_units(ns.as_ref(), "s", "u", 1);
    let release = Arc::new(AtomicBool::new(false));
    let released = release.clone();
    let runtime = quick(ns.clone())
        .grace(Duration::from_millis(100))
        .abandon_after(Duration::from_millis(100))
        .handler("s", move |_: &Job| {
            // Ignores the cancellation on purpose.
            while !released.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(5));
            }
            Ok(JobOutcome::finish())
        })
        .start()
        .unwrap();
    wait_until("it runs", || runtime.stats().running == 1);
    runtime.shutdown();
    let report = runtime.wait();
    assert_eq!((report.totals.abandoned, report.totals.released), (1, 1));
    assert_eq!(count(ns.as_ref(), "s", WorkUnitStatus::Available), 1);
    // Its late result is not applied over the release.
    release.store(true, Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(count(ns.as_ref(), "s", WorkUnitStatus::Available), 1);
}

#[test]
fn an_immediate_stop_skips_the_grace() {
    let ns = namespace(&[WorkSpecDefinition::new("s")]);
    add_units(ns.as_ref(), "s", "u", 1);
    let reason = Arc::new(std::sync::Mutex::new(None));
    let seen = reason.clone();
    let runtime = quick(ns.clone())
        .grace(Duration::from_secs(60))
        .handler("s", move |job: &Job| {
            let slept = job.sleep(Duration::from_secs(30));
            *seen.lock().unwrap() = job.cancel_reason();
            slept?;
            Ok(JobOutcome::finish())
        })
        .start()
        .unwrap();
    wait_until("it runs", || runtime.stats().running == 1);
    let stopper = runtime.stopper();
    let asked = Instant::now();
    std::thread::spawn(move || stopper.immediate());
    let report = runtime.wait();
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "the stop took {:?}",
        asked.elapsed()
    );
    assert_eq!(*reason.lock().unwrap(), Some(CancelReason::Shutdown));
    assert_eq!(report.totals.released, 1);
}

#[test]
fn worker_records_report_while_running_and_are_deactivated_at_the_end() {
    let ns = namespace(&[WorkSpecDefinition::new("s")]);
    add_units(ns.as_ref(), "s", "u", 1);
    let runtime = quick(ns.clone())
        .concurrency(3)
        .handler("s", |job: &Job| {
            job.sleep(Duration::from_millis(600))?;
            Ok(JobOutcome::finish())
        })
        .start()
        .unwrap();
    assert_eq!(runtime.worker_name(), "test-runtime");
    let parent = ns.worker("test-runtime").unwrap();
    let first_report = parent.last_update().unwrap();
    wait_until("a heartbeat reported the running unit", || {
        let executing =
            parent.children().unwrap().iter().any(|child| {
                child.data().unwrap().get("work_unit") == Some(&Value::Text("u0".into()))
            });
        executing && parent.last_update().unwrap() > first_report
    });
    assert_eq!(parent.mode().unwrap(), "RUN");
    assert!(parent.expiration().unwrap() > parent.last_update().unwrap());
    let children = parent.children().unwrap();
    assert_eq!(children.len(), 3);
    assert!(parent.data().unwrap().contains_key("in_flight"));

    runtime.shutdown();
    runtime.wait();
    assert_eq!(parent.mode().unwrap(), "STOPPING");
    assert!(!parent.active().unwrap());
    assert!(children.iter().all(|child| !child.active().unwrap()));
    assert!(parent.active_attempts().unwrap().is_empty());
}

#[test]
fn dropping_the_handle_stops_the_runtime() {
    let ns = namespace(&[WorkSpecDefinition::new("s")]);
    let runtime = quick(ns.clone())
        .handler("s", |_: &Job| Ok(JobOutcome::finish()))
        .start()
        .unwrap();
    let parent = ns.worker("test-runtime").unwrap();
    drop(runtime);
    wait_until("the records are deactivated", || !parent.active().unwrap());
}
