//! `Namespace::wait_for_work`: a waiter wakes as soon as a unit may have
//! become available in its namespace (added, retried without delay,
//! released, expired by someone), and otherwise times out.

use std::sync::Arc;
use std::time::{Duration, Instant};

use coordinate_api::{AttemptRequest, Data, Namespace, Wakeup, WorkUnitMeta};

use crate::{definition, unique_name, Backend, Fixture};

/// Long enough that a missed wake-up fails the case instead of ending the
/// wait; a wake-up that works takes milliseconds.
pub(crate) const PATIENCE: Duration = Duration::from_secs(20);

/// One of the namespace's waits: `wait_for_work` or
/// `wait_for_cancellation`.
pub(crate) type Wait = fn(&dyn Namespace, Duration) -> coordinate_api::Result<Wakeup>;

/// `Namespace::wait_for_work`, as a [`Wait`].
fn for_work(namespace: &dyn Namespace, timeout: Duration) -> coordinate_api::Result<Wakeup> {
    namespace.wait_for_work(timeout)
}

/// Waits until a short wait times out, so that wake-ups owed to earlier
/// changes (or to a backend that has just started listening, which wakes
/// every waiter once) are spent before a case's own wait begins.
pub fn settle(namespace: &Arc<dyn Namespace>) {
    settle_wait(namespace, for_work);
}

/// [`settle`] for any [`Wait`].
pub(crate) fn settle_wait(namespace: &Arc<dyn Namespace>, wait: Wait) {
    for _ in 0..100 {
        match wait(namespace.as_ref(), Duration::from_millis(50)) {
            Ok(Wakeup::Woken) => continue,
            Ok(Wakeup::TimedOut) => return,
            other => panic!("settling: {other:?}"),
        }
    }
    panic!("the wait kept waking with nothing happening");
}

/// Runs `wait_for_work` on another thread, then `act`; the waiter must say
/// it was woken, well before its timeout.
fn woken_by(namespace: &Arc<dyn Namespace>, act: impl Fn()) {
    woken_in(namespace, for_work, act);
}

/// Runs `wait` on another thread, then `act`; the waiter must say it was
/// woken, well before its timeout.
pub(crate) fn woken_in(namespace: &Arc<dyn Namespace>, wait: Wait, act: impl Fn()) {
    settle_wait(namespace, wait);
    let waiter = {
        let namespace = namespace.clone();
        std::thread::spawn(move || {
            let started = Instant::now();
            (wait(namespace.as_ref(), PATIENCE), started.elapsed())
        })
    };
    // The waiter is most likely waiting by now; one that is not yet
    // waiting returns at once, which also passes, so the pause only makes
    // the case test what it means to.
    std::thread::sleep(Duration::from_millis(50));
    act();
    let (wakeup, waited) = waiter.join().expect("waiter thread");
    assert_eq!(wakeup.expect("the wait"), Wakeup::Woken);
    assert!(waited < PATIENCE / 2, "woken only after {waited:?}");
}

/// Adding a unit wakes a waiter.
pub fn an_added_unit_wakes_a_waiter(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    woken_by(&fx.namespace, || {
        fx.unit(&spec, "u");
    });
}

/// Un-pausing a work spec that holds units wakes a waiter: its units can
/// be claimed now, though none was freed.
pub fn unpausing_a_spec_wakes_a_waiter(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[("disabled", coordinate_api::Value::Bool(true))]);
    fx.unit(&spec, "u");
    let mut meta = spec.meta(false).expect("meta");
    assert!(meta.paused);
    meta.paused = false;
    woken_by(&fx.namespace, || {
        spec.set_meta(meta.clone()).expect("set_meta")
    });
}

/// Adding units in a batch wakes a waiter.
pub fn a_batch_add_wakes_a_waiter(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    woken_by(&fx.namespace, || {
        let units = (0..3)
            .map(|i| coordinate_api::NewWorkUnit {
                name: format!("u{i}"),
                data: Data::new(),
                meta: WorkUnitMeta::default(),
            })
            .collect();
        spec.add_work_units(units).expect("add_work_units");
    });
}

/// A retry without delay and an expiry (release) by the worker each wake
/// a waiter.
pub fn a_retry_without_delay_and_a_release_wake_a_waiter(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    fx.unit(&spec, "a");
    fx.unit(&spec, "b");
    let request = AttemptRequest {
        number_of_work_units: 2,
        ..AttemptRequest::default()
    };
    let attempts = fx.worker("w").request_attempts(&request).expect("claim");
    assert_eq!(attempts.len(), 2);
    woken_by(&fx.namespace, || {
        attempts[0].retry(None, Duration::ZERO).expect("retry")
    });
    woken_by(&fx.namespace, || attempts[1].expire(None).expect("expire"));
}

/// A lease that runs out, noticed by someone else's read, wakes a waiter.
pub fn an_expiry_by_someone_wakes_a_waiter(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    fx.unit(&spec, "a");
    let attempts = fx
        .worker("w")
        .request_attempts(&AttemptRequest {
            lifetime: Duration::from_secs(1),
            ..AttemptRequest::default()
        })
        .expect("claim");
    assert_eq!(attempts.len(), 1);
    woken_by(&fx.namespace, || {
        fx.clock.advance(Duration::from_secs(5));
        // Any read that expires leases frees the unit.
        spec.count_work_unit_status().expect("counts");
    });
}

/// With nothing happening in its namespace, a wait times out after its
/// timeout, and units added to another namespace do not wake it.
pub fn nothing_happening_times_out_and_other_namespaces_do_not_wake(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let other = fx
        .coordinate
        .namespace(&unique_name("busy"))
        .expect("namespace");
    let busy = other.set_work_spec(definition("spec", &[])).expect("spec");
    settle(&fx.namespace);
    let timeout = Duration::from_millis(300);
    let waiter = {
        let namespace = fx.namespace.clone();
        std::thread::spawn(move || {
            let started = Instant::now();
            (namespace.wait_for_work(timeout), started.elapsed())
        })
    };
    for i in 0..5 {
        busy.add_work_unit(&format!("u{i}"), Data::new(), WorkUnitMeta::default())
            .expect("add");
        std::thread::sleep(Duration::from_millis(20));
    }
    let (wakeup, waited) = waiter.join().expect("waiter thread");
    other.destroy().expect("destroy");
    assert_eq!(wakeup.expect("wait_for_work"), Wakeup::TimedOut);
    assert!(waited >= timeout, "returned after {waited:?}");
    assert!(waited < timeout * 10, "returned only after {waited:?}");
}
