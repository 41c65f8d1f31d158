//! Attempts: leases, their metadata, expiry, retry delays and `max_retries`.
//!
//! The status-by-status rules of renew/expire/finish/fail/retry live in
//! `attempt_lifecycle`; this module also holds the small helpers the
//! attempt, worker, chaining, gone and concurrency cases share.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use coordinate_api::backend::scheduler::TOO_MANY_RETRIES;
use coordinate_api::{
    Attempt, AttemptRequest, AttemptStatus, Clock, Data, Value, WorkUnitMeta, WorkUnitStatus,
    Worker,
};

use crate::{Backend, Fixture};

/// A CBOR text value.
pub(crate) fn text(s: &str) -> Value {
    Value::Text(s.into())
}

/// Data made of the pairs given.
pub(crate) fn data(pairs: &[(&str, Value)]) -> Data {
    pairs
        .iter()
        .map(|(key, value)| ((*key).to_owned(), value.clone()))
        .collect()
}

/// Asks for one unit with the default request and insists on getting one.
pub(crate) fn request_one(worker: &dyn Worker) -> Arc<dyn Attempt> {
    let mut attempts = worker
        .request_attempts(&AttemptRequest::default())
        .expect("request_attempts");
    assert_eq!(attempts.len(), 1, "expected exactly one attempt");
    attempts.pop().expect("one attempt")
}

/// Asks for work and insists on getting none.
pub(crate) fn request_none(worker: &dyn Worker) {
    let attempts = worker
        .request_attempts(&AttemptRequest::default())
        .expect("request_attempts");
    assert!(
        attempts.is_empty(),
        "expected no work, got {:?}",
        unit_names(&attempts)
    );
}

/// The unit names of some attempts, in the order given.
pub(crate) fn unit_names(attempts: &[Arc<dyn Attempt>]) -> Vec<String> {
    attempts
        .iter()
        .map(|a| a.work_unit().name().to_owned())
        .collect()
}

/// What identifies an attempt from the outside: work spec, unit, worker
/// and start time.
pub(crate) fn identity(attempt: &dyn Attempt) -> (String, String, String, DateTime<Utc>) {
    let unit = attempt.work_unit();
    (
        unit.work_spec().name().to_owned(),
        unit.name().to_owned(),
        attempt.worker().name().to_owned(),
        attempt.start_time().expect("start_time"),
    )
}

/// A unit's whole lease cycle: claim, finish with data, clear (go: TestAttemptLifetime).
pub fn attempt_lifetime(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let unit = fx.unit(&spec, "a");
    let worker = fx.worker("worker");
    assert_eq!(unit.status().expect("status"), WorkUnitStatus::Available);
    assert!(unit.data().expect("data").is_empty());

    let attempt = request_one(worker.as_ref());
    let id = identity(attempt.as_ref());
    assert_eq!(unit.status().expect("status"), WorkUnitStatus::Pending);
    assert_eq!(attempt.status().expect("status"), AttemptStatus::Pending);
    let active = unit.active_attempt().expect("active").expect("some");
    assert_eq!(identity(active.as_ref()), id);
    let listed = worker.active_attempts().expect("active_attempts");
    assert_eq!(listed.len(), 1);
    assert_eq!(identity(listed[0].as_ref()), id);
    assert!(unit.data().expect("data").is_empty());

    let outputs = data(&[("outputs", Value::Array(vec![text("yes")]))]);
    attempt.finish(Some(outputs.clone())).expect("finish");
    assert_eq!(unit.status().expect("status"), WorkUnitStatus::Finished);
    assert_eq!(attempt.status().expect("status"), AttemptStatus::Finished);
    let active = unit.active_attempt().expect("active").expect("some");
    assert_eq!(identity(active.as_ref()), id);
    assert!(worker.active_attempts().expect("active").is_empty());
    for history in [unit.attempts(), worker.all_attempts()] {
        let history = history.expect("history");
        assert_eq!(history.len(), 1);
        assert_eq!(identity(history[0].as_ref()), id);
    }
    assert_eq!(unit.data().expect("data"), outputs);

    unit.clear_active_attempt().expect("clear");
    assert_eq!(unit.status().expect("status"), WorkUnitStatus::Available);
    assert!(unit.data().expect("data").is_empty());
    assert_eq!(unit.attempts().expect("attempts").len(), 1);
    assert_eq!(worker.all_attempts().expect("all").len(), 1);
}

/// Start, end and expiration times and data across renew and finish (go: TestAttemptMetadata).
pub fn attempt_metadata(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let from = |who: &str| data(&[("from", text(who))]);
    spec.add_work_unit("a", from("wu"), WorkUnitMeta::default())
        .expect("add");
    let worker = fx.worker("worker");
    let start = fx.clock.now();
    let attempt = request_one(worker.as_ref());

    assert_eq!(attempt.start_time().expect("start"), start);
    assert_eq!(attempt.data().expect("data"), from("wu"));
    assert_eq!(attempt.end_time().expect("end"), None);
    assert_eq!(
        attempt.expiration_time().expect("expiration") - start,
        chrono::Duration::minutes(15)
    );

    fx.clock.advance(Duration::from_secs(10));
    let renewed_at = fx.clock.now();
    attempt
        .renew(Duration::from_secs(300), Some(from("renew")))
        .expect("renew");
    assert_eq!(attempt.start_time().expect("start"), start);
    assert_eq!(attempt.data().expect("data"), from("renew"));
    assert_eq!(attempt.end_time().expect("end"), None);
    assert_eq!(
        attempt.expiration_time().expect("expiration"),
        renewed_at + chrono::Duration::minutes(5)
    );

    attempt.finish(Some(from("finish"))).expect("finish");
    assert_eq!(attempt.start_time().expect("start"), start);
    assert_eq!(attempt.data().expect("data"), from("finish"));
    let end = attempt.end_time().expect("end").expect("ended");
    assert_eq!(end, fx.clock.now());
    assert!(end > start);
}

/// An overdue attempt turns expired by itself and its unit is handed out again (go: TestAttemptExpiration).
pub fn attempt_expiration(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let unit = fx.unit(&spec, "a");
    let worker = fx.worker("worker");
    let attempt = request_one(worker.as_ref());
    assert_eq!(attempt.status().expect("status"), AttemptStatus::Pending);
    request_none(worker.as_ref());

    fx.clock.advance(Duration::from_secs(20 * 60));
    assert_eq!(attempt.status().expect("status"), AttemptStatus::Expired);
    let meta = spec.meta(true).expect("meta");
    assert_eq!((meta.available_count, meta.pending_count), (1, 0));
    assert_eq!(unit.status().expect("status"), WorkUnitStatus::Available);

    let again = request_one(worker.as_ref());
    assert_eq!(again.work_unit().name(), "a");
    assert_eq!(again.status().expect("status"), AttemptStatus::Pending);
    assert_eq!(attempt.status().expect("status"), AttemptStatus::Expired);
}

/// A retry delay makes the unit delayed, then available again (go: TestRetryDelay).
pub fn retry_delay(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let unit = fx.unit(&spec, "unit");
    let worker = fx.worker("worker");
    assert_eq!(unit.status().expect("status"), WorkUnitStatus::Available);

    let attempt = request_one(worker.as_ref());
    attempt.retry(None, Duration::from_secs(90)).expect("retry");
    fx.clock.advance(Duration::from_secs(60));
    assert_eq!(unit.status().expect("status"), WorkUnitStatus::Delayed);
    request_none(worker.as_ref());

    fx.clock.advance(Duration::from_secs(60));
    assert_eq!(unit.status().expect("status"), WorkUnitStatus::Available);
    let again = request_one(worker.as_ref());
    assert_eq!(again.work_unit().name(), "unit");
    again.finish(None).expect("finish");
    request_none(worker.as_ref());
}

/// Retry records the not-before time and leaves the unit without an active attempt.
pub fn retry_sets_not_before(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let unit = fx.unit(&spec, "unit");
    let attempt = request_one(fx.worker("worker").as_ref());
    let now = fx.clock.now();
    attempt.retry(None, Duration::from_secs(90)).expect("retry");
    assert_eq!(attempt.status().expect("status"), AttemptStatus::Retryable);
    assert_eq!(attempt.end_time().expect("end"), Some(now));
    assert_eq!(
        unit.meta().expect("meta").not_before,
        Some(now + chrono::Duration::seconds(90))
    );
    assert!(unit.active_attempt().expect("active").is_none());
    assert_eq!(unit.status().expect("status"), WorkUnitStatus::Delayed);
    assert_eq!(unit.num_attempts().expect("num"), 1);
}

/// Retry with no delay makes the unit available at once.
pub fn retry_without_delay(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let unit = fx.unit(&spec, "unit");
    let worker = fx.worker("worker");
    request_one(worker.as_ref())
        .retry(None, Duration::ZERO)
        .expect("retry");
    assert_eq!(unit.status().expect("status"), WorkUnitStatus::Available);
    assert_eq!(request_one(worker.as_ref()).work_unit().name(), "unit");
    assert_eq!(unit.num_attempts().expect("num"), 2);
}

/// An attempt started at a fractional second can still be finished (go: TestAttemptFractionalStart).
pub fn attempt_fractional_start(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let unit = fx.unit(&spec, "unit");
    fx.clock.advance(Duration::from_millis(500));
    let attempt = request_one(fx.worker("worker").as_ref());
    assert_eq!(attempt.start_time().expect("start"), fx.clock.now());
    attempt.finish(None).expect("finish");
    assert_eq!(unit.status().expect("status"), WorkUnitStatus::Finished);
}

/// Once a unit has used its `max_retries` attempts it is failed, not handed out; the failing attempt joins the history (go: TestMaxRetries).
pub fn max_retries(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[("max_retries", Value::Integer(2))]);
    let unit = fx.unit(&spec, "unit");
    let worker = fx.worker("worker");
    request_one(worker.as_ref());
    fx.clock.advance(Duration::from_secs(3600));
    assert_eq!(request_one(worker.as_ref()).work_unit().name(), "unit");
    fx.clock.advance(Duration::from_secs(3600));
    request_none(worker.as_ref());
    assert_eq!(unit.status().expect("status"), WorkUnitStatus::Failed);
    assert_eq!(
        unit.data().expect("data").get("traceback"),
        Some(&text(TOO_MANY_RETRIES))
    );
    // The attempt that recorded the failure is history like any other.
    assert_eq!(unit.num_attempts().expect("num_attempts"), 3);
    assert_eq!(worker.all_attempts().expect("all_attempts").len(), 3);
    assert!(worker.active_attempts().expect("active").is_empty());
}

/// With `max_getwork`, an over-retried unit drops out of the batch (go: TestMaxRetriesMulti).
pub fn max_retries_multi(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec(
        "spec",
        &[
            ("max_getwork", Value::Integer(2)),
            ("max_retries", Value::Integer(1)),
        ],
    );
    for name in ["a", "b", "c", "d"] {
        fx.unit(&spec, name);
    }
    let worker = fx.worker("worker");
    let request = AttemptRequest {
        number_of_work_units: 10,
        ..AttemptRequest::default()
    };
    let attempts = worker.request_attempts(&request).expect("request");
    assert_eq!(unit_names(&attempts), ["a", "b"]);

    fx.clock.advance(Duration::from_secs(60));
    attempts[0].finish(None).expect("finish");
    fx.clock.advance(Duration::from_secs(3600));
    let attempts = worker.request_attempts(&request).expect("request");
    assert_eq!(unit_names(&attempts), ["c"]);
    let b = spec.work_unit("b").expect("b");
    assert_eq!(b.status().expect("status"), WorkUnitStatus::Failed);
}

/// When a whole batch is over-retried, the scheduler picks a fresh batch (go: TestMaxRetriesMultiBatch).
pub fn max_retries_multi_batch(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec(
        "spec",
        &[
            ("max_getwork", Value::Integer(2)),
            ("max_retries", Value::Integer(1)),
        ],
    );
    for name in ["a", "b", "c", "d"] {
        fx.unit(&spec, name);
    }
    let worker = fx.worker("worker");
    let request = AttemptRequest {
        number_of_work_units: 10,
        ..AttemptRequest::default()
    };
    let attempts = worker.request_attempts(&request).expect("request");
    assert_eq!(unit_names(&attempts), ["a", "b"]);

    fx.clock.advance(Duration::from_secs(3600));
    let attempts = worker.request_attempts(&request).expect("request");
    assert_eq!(unit_names(&attempts), ["c", "d"]);
    for name in ["a", "b"] {
        let unit = spec.work_unit(name).expect("unit");
        assert_eq!(unit.status().expect("status"), WorkUnitStatus::Failed);
    }
}

/// An explicit retry counts toward `max_retries` like an expiry does.
pub fn max_retries_counts_retries(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[("max_retries", Value::Integer(1))]);
    let unit = fx.unit(&spec, "unit");
    let worker = fx.worker("worker");
    request_one(worker.as_ref())
        .retry(None, Duration::ZERO)
        .expect("retry");
    request_none(worker.as_ref());
    assert_eq!(unit.status().expect("status"), WorkUnitStatus::Failed);
    assert_eq!(
        unit.data().expect("data").get("traceback"),
        Some(&text(TOO_MANY_RETRIES))
    );
}

/// Without `max_retries` a unit is handed out again after every expiry.
pub fn unlimited_retries_by_default(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let unit = fx.unit(&spec, "unit");
    let worker = fx.worker("worker");
    for _ in 0..5 {
        assert_eq!(request_one(worker.as_ref()).work_unit().name(), "unit");
        fx.clock.advance(Duration::from_secs(3600));
    }
    assert_eq!(unit.num_attempts().expect("num"), 5);
    assert_eq!(unit.status().expect("status"), WorkUnitStatus::Available);
}

/// A lease that ran out goes to another worker; the history keeps both attempts in order.
pub fn expired_unit_goes_to_another_worker(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let unit = fx.unit(&spec, "unit");
    let first = request_one(fx.worker("first").as_ref());
    fx.clock.advance(Duration::from_secs(3600));
    let second = request_one(fx.worker("second").as_ref());
    assert_eq!(second.work_unit().name(), "unit");

    let history = unit.attempts().expect("attempts");
    let workers: Vec<String> = history.iter().map(|a| a.worker().name().into()).collect();
    assert_eq!(workers, ["first", "second"]);
    assert_eq!(history[0].status().expect("status"), AttemptStatus::Expired);
    assert_eq!(history[1].status().expect("status"), AttemptStatus::Pending);
    let active = unit.active_attempt().expect("active").expect("some");
    assert_eq!(identity(active.as_ref()), identity(second.as_ref()));
    assert_eq!(first.status().expect("status"), AttemptStatus::Expired);
}

/// A unit shows its live attempt's data, and its own data again once the attempt expires.
pub fn unit_data_follows_active_attempt(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let own = data(&[("own", Value::Bool(true))]);
    let unit = spec
        .add_work_unit("unit", own.clone(), WorkUnitMeta::default())
        .expect("add");
    let attempt = request_one(fx.worker("worker").as_ref());
    assert_eq!(attempt.data().expect("data"), own);

    let progress = data(&[("progress", Value::Integer(50))]);
    attempt
        .renew(Duration::from_secs(60), Some(progress.clone()))
        .expect("renew");
    assert_eq!(unit.data().expect("data"), progress);
    attempt.expire(None).expect("expire");
    assert_eq!(attempt.data().expect("data"), progress);
    assert_eq!(unit.data().expect("data"), own);
}
