//! Continuous work specs: units made out of thin air when a spec has
//! nothing to do, no more often than its interval allows.

use std::sync::Arc;
use std::time::Duration;

use coordinate_api::backend::scheduler::continuous_unit_name;
use coordinate_api::{AttemptRequest, Clock, Value, WorkSpec, WorkUnitQuery, Worker};

use crate::scheduling::request;
use crate::{Backend, Fixture};

/// Requests default work and finishes everything it got; returns how many.
fn take_and_finish(worker: &Arc<dyn Worker>) -> usize {
    let got = request(worker, &AttemptRequest::default());
    for attempt in &got {
        attempt.finish(None).expect("finish");
    }
    got.len()
}

fn continuous(fx: &Fixture, interval: Option<i128>) -> Arc<dyn WorkSpec> {
    let mut keys = vec![("continuous", Value::Bool(true))];
    if let Some(seconds) = interval {
        keys.push(("interval", Value::Integer(seconds)));
    }
    fx.spec("spec", &keys)
}

/// A continuous spec makes units; `set_meta` switches that off and on (go: TestContinuous).
pub fn continuous_creates_units(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = continuous(&fx, None);
    let worker = fx.worker("worker");
    let step = |expected: usize| {
        fx.clock.advance(Duration::from_secs(5));
        assert_eq!(take_and_finish(&worker), expected);
    };
    step(1);
    let mut meta = spec.meta(false).expect("meta");
    meta.continuous = false;
    spec.set_meta(meta.clone()).expect("switch off");
    step(0);
    meta.continuous = true;
    spec.set_meta(meta).expect("switch on");
    step(1);
    let units = spec.work_units(&WorkUnitQuery::all()).expect("units");
    assert_eq!(units.len(), 2, "one unit per continuous start");
}

/// Continuous starts are spaced by the interval (go: TestContinuousInterval).
pub fn continuous_interval(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = continuous(&fx, Some(60));
    let worker = fx.worker("worker");
    let start = fx.clock.now();
    assert_eq!(take_and_finish(&worker), 1);
    let meta = spec.meta(false).expect("meta");
    assert_eq!(meta.interval, Duration::from_secs(60));
    assert_eq!(
        meta.next_continuous,
        Some(start + chrono::Duration::seconds(60))
    );

    fx.clock.advance(Duration::from_secs(30));
    assert_eq!(take_and_finish(&worker), 0);
    fx.clock.advance(Duration::from_secs(30));
    assert_eq!(take_and_finish(&worker), 1);
    fx.clock.advance(Duration::from_secs(120));
    assert_eq!(take_and_finish(&worker), 1);
    assert_eq!(take_and_finish(&worker), 0);
}

/// A continuous spec with a one-day interval still starts at once (go: TestOneDayInterval).
pub fn one_day_interval(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = continuous(&fx, Some(86_400));
    let worker = fx.worker("worker");
    let start = fx.clock.now();
    assert_eq!(request(&worker, &AttemptRequest::default()).len(), 1);
    let meta = spec.meta(false).expect("meta");
    assert_eq!(meta.interval, Duration::from_secs(86_400));
    assert_eq!(
        meta.next_continuous,
        Some(start + chrono::Duration::days(1))
    );
}

/// The made unit is named after the clock and comes alone, even for big requests.
pub fn continuous_unit_is_named_after_the_clock(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = continuous(&fx, None);
    fx.clock.advance(Duration::from_millis(1234));
    let expected = continuous_unit_name(fx.clock.now());
    let worker = fx.worker("worker");
    let got = request(
        &worker,
        &AttemptRequest {
            number_of_work_units: 5,
            ..AttemptRequest::default()
        },
    );
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].work_unit().name(), expected);
    assert_eq!(
        spec.work_unit(&expected).expect("work_unit").name(),
        expected
    );
}

/// A continuous spec with available units hands those out and makes none.
pub fn continuous_prefers_real_units(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = continuous(&fx, None);
    fx.unit(&spec, "real");
    let worker = fx.worker("worker");
    let got = request(&worker, &AttemptRequest::default());
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].work_unit().name(), "real");
    let all = spec.work_units(&WorkUnitQuery::all()).expect("units");
    assert_eq!(all.len(), 1, "no unit was made while real work existed");
}

/// No new continuous unit while one is still pending.
pub fn continuous_waits_for_pending(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = continuous(&fx, None);
    let worker = fx.worker("worker");
    let first = request(&worker, &AttemptRequest::default());
    assert_eq!(first.len(), 1);
    fx.clock.advance(Duration::from_secs(5));
    assert!(request(&worker, &AttemptRequest::default()).is_empty());
    first[0].finish(None).expect("finish");
    fx.clock.advance(Duration::from_secs(5));
    assert_eq!(request(&worker, &AttemptRequest::default()).len(), 1);
    assert_eq!(
        spec.work_units(&WorkUnitQuery::all()).expect("units").len(),
        2
    );
}

/// A paused continuous spec makes nothing.
pub fn paused_continuous_makes_nothing(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec(
        "spec",
        &[
            ("continuous", Value::Bool(true)),
            ("disabled", Value::Bool(true)),
        ],
    );
    let worker = fx.worker("worker");
    assert!(request(&worker, &AttemptRequest::default()).is_empty());
    assert!(spec
        .work_units(&WorkUnitQuery::all())
        .expect("units")
        .is_empty());
}
