//! `Namespace::wait_for_work` in the memory backend: a waiter wakes as
//! soon as a unit becomes available in its namespace, and only then.
//!
//! These cases move into the conformance suite once the PostgreSQL
//! backend listens for notifications; today it answers every wait with
//! `Wakeup::Polling` after the timeout (the trait's default).

use std::sync::Arc;
use std::time::{Duration, Instant};

use coordinate_api::{
    AttemptRequest, Coordinate, Data, MockClock, Namespace, Value, Wakeup, WorkSpec, WorkUnitMeta,
};
use coordinate_memory::MemoryCoordinate;

/// Long enough that a missed wake-up fails the test instead of ending the
/// wait; a wake-up that works takes microseconds.
const PATIENCE: Duration = Duration::from_secs(20);

fn setup(clock: Arc<MockClock>) -> (Arc<dyn Namespace>, Arc<dyn WorkSpec>) {
    let coordinate = MemoryCoordinate::with_clock(clock);
    let namespace = coordinate.namespace("ns").expect("namespace");
    let mut definition = Data::new();
    definition.insert("name".into(), Value::Text("spec".into()));
    let spec = namespace.set_work_spec(definition).expect("spec");
    (namespace, spec)
}

/// Runs `wait_for_work` on another thread, then `act` until the waiter
/// returns; the waiter must say it was woken, well before its timeout.
fn woken_by(namespace: &Arc<dyn Namespace>, act: impl Fn()) {
    let waiter = {
        let namespace = namespace.clone();
        std::thread::spawn(move || {
            let started = Instant::now();
            (namespace.wait_for_work(PATIENCE), started.elapsed())
        })
    };
    // The waiter may not be waiting yet when we act; acting again is
    // harmless, and a waiter that started first must be woken by it.
    std::thread::sleep(Duration::from_millis(50));
    act();
    let (wakeup, waited) = waiter.join().expect("waiter thread");
    assert_eq!(wakeup.expect("wait_for_work"), Wakeup::Woken);
    assert!(waited < PATIENCE / 2, "woken only after {waited:?}");
}

#[test]
fn an_added_unit_wakes_a_waiter() {
    let (namespace, spec) = setup(Arc::new(MockClock::default()));
    woken_by(&namespace, || {
        spec.add_work_unit("u", Data::new(), WorkUnitMeta::default())
            .expect("add");
    });
}

#[test]
fn a_retry_without_delay_and_a_release_wake_a_waiter() {
    let (namespace, spec) = setup(Arc::new(MockClock::default()));
    spec.add_work_unit("a", Data::new(), WorkUnitMeta::default())
        .expect("add");
    spec.add_work_unit("b", Data::new(), WorkUnitMeta::default())
        .expect("add");
    let worker = namespace.worker("w").expect("worker");
    let request = AttemptRequest {
        number_of_work_units: 2,
        ..AttemptRequest::default()
    };
    let attempts = worker.request_attempts(&request).expect("claim");
    assert_eq!(attempts.len(), 2);
    woken_by(&namespace, || {
        attempts[0].retry(None, Duration::ZERO).expect("retry")
    });
    woken_by(&namespace, || attempts[1].expire(None).expect("expire"));
}

#[test]
fn an_expiry_by_someone_wakes_a_waiter() {
    let clock = Arc::new(MockClock::default());
    let (namespace, spec) = setup(clock.clone());
    spec.add_work_unit("a", Data::new(), WorkUnitMeta::default())
        .expect("add");
    let worker = namespace.worker("w").expect("worker");
    let attempts = worker
        .request_attempts(&AttemptRequest {
            lifetime: Duration::from_secs(1),
            ..AttemptRequest::default()
        })
        .expect("claim");
    assert_eq!(attempts.len(), 1);
    woken_by(&namespace, || {
        clock.advance(Duration::from_secs(5));
        // Any read that expires leases frees the unit.
        spec.count_work_unit_status().expect("counts");
    });
}

#[test]
fn nothing_happening_times_out_and_other_namespaces_do_not_wake() {
    let clock = Arc::new(MockClock::default());
    let coordinate = MemoryCoordinate::with_clock(clock);
    let namespace = coordinate.namespace("quiet").expect("namespace");
    let other = coordinate.namespace("busy").expect("namespace");
    let mut definition = Data::new();
    definition.insert("name".into(), Value::Text("spec".into()));
    let busy = other.set_work_spec(definition).expect("spec");
    let timeout = Duration::from_millis(300);
    let waiter = std::thread::spawn(move || {
        let started = Instant::now();
        (namespace.wait_for_work(timeout), started.elapsed())
    });
    for i in 0..5 {
        busy.add_work_unit(&format!("u{i}"), Data::new(), WorkUnitMeta::default())
            .expect("add");
        std::thread::sleep(Duration::from_millis(20));
    }
    let (wakeup, waited) = waiter.join().expect("waiter thread");
    assert_eq!(wakeup.expect("wait_for_work"), Wakeup::TimedOut);
    assert!(waited >= timeout, "returned after {waited:?}");
}
