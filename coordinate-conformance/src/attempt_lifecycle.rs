//! The attempt lifecycle table (in `coordinate_api::backend::lifecycle`'s
//! documentation): what renew, expire, finish, fail
//! and retry do from every status an attempt can be in, and what they
//! leave behind (attempt status and data, unit status, the worker's
//! active list).

use std::sync::Arc;
use std::time::Duration;

use coordinate_api::{
    Attempt, AttemptStatus, Clock, Data, Error, Result, Value, WorkSpec, WorkUnit, WorkUnitMeta,
    WorkUnitStatus, Worker,
};

use crate::attempt::{data, identity, request_one, text, unit_names};
use crate::{Backend, Fixture};

/// Where an attempt stands before the call under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Start {
    /// Pending and its unit's active attempt.
    Pending,
    /// Expired by hand.
    Expired,
    /// Expired because its lease ran out.
    TimedOut,
    /// Still pending, but its unit's active attempt was cleared.
    Superseded,
    Finished,
    Failed,
    Retryable,
}

pub(crate) const STARTS: [Start; 7] = [
    Start::Pending,
    Start::Expired,
    Start::TimedOut,
    Start::Superseded,
    Start::Finished,
    Start::Failed,
    Start::Retryable,
];

impl Start {
    /// Whether the attempt is still its unit's active attempt.
    fn active(self) -> bool {
        matches!(self, Start::Pending | Start::Finished | Start::Failed)
    }

    /// The attempt status this start means.
    fn status(self) -> AttemptStatus {
        match self {
            Start::Pending | Start::Superseded => AttemptStatus::Pending,
            Start::Expired | Start::TimedOut => AttemptStatus::Expired,
            Start::Finished => AttemptStatus::Finished,
            Start::Failed => AttemptStatus::Failed,
            Start::Retryable => AttemptStatus::Retryable,
        }
    }
}

/// How the call under test must end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// It succeeds and stores the data it was given.
    Done,
    /// It succeeds without changing anything.
    NoOp,
    /// It fails with `LostLease`, but the attempt still ends (expired)
    /// with the data it was given.
    LostLease,
    /// It fails with `NotPending` and changes nothing.
    NotPending,
}

/// An attempt, its unit and where it started.
type Row = (Start, Arc<dyn WorkUnit>, Arc<dyn Attempt>);

/// One attempt per [`Start`], each on its own unit (named after the start)
/// of one work spec, all by one worker.
struct Table {
    /// Owns the namespace for as long as the table lives.
    fx: Fixture,
    worker: Arc<dyn Worker>,
    rows: Vec<Row>,
}

pub(crate) fn unit_data(start: Start) -> Data {
    data(&[("unit", text(&format!("{start:?}")))])
}

impl Table {
    fn new(backend: Backend<'_>) -> Table {
        Table::with_spec_keys(backend, &[])
    }

    /// A table whose units belong to a spec defined with `keys`.
    fn with_spec_keys(backend: Backend<'_>, keys: &[(&str, Value)]) -> Table {
        let fx = Fixture::new(backend);
        let spec = fx.spec("spec", keys);
        let worker = fx.worker("worker");
        let rows = STARTS
            .iter()
            .map(|&start| {
                let (unit, attempt) = prepare(&spec, worker.as_ref(), start);
                (start, unit, attempt)
            })
            .collect();
        // Only the TimedOut attempt has a lease short enough to run out.
        fx.clock.advance(Duration::from_secs(60));
        let table = Table { fx, worker, rows };
        for (start, _, attempt) in &table.rows {
            assert_eq!(
                attempt.status().expect("status"),
                start.status(),
                "{start:?}"
            );
        }
        table
    }

    /// Runs `call` on every attempt (with fresh data, or `None` unless
    /// `with_data`) and checks the outcome `expect` gives for its start;
    /// `ended` is the status a successful call leaves and `unit_after` the
    /// unit status it leaves when the attempt was active.
    fn check(
        &self,
        call: impl Fn(&dyn Attempt, Option<Data>) -> Result<()>,
        with_data: bool,
        expect: impl Fn(Start) -> Outcome,
        ended: AttemptStatus,
        unit_after: WorkUnitStatus,
    ) {
        for (start, unit, attempt) in &self.rows {
            let (start, outcome) = (*start, expect(*start));
            let unit_before = unit.status().expect("unit status");
            let given =
                with_data.then(|| data(&[("call", text(&format!("{ended:?} from {start:?}")))]));
            let result = call(attempt.as_ref(), given.clone());
            match outcome {
                Outcome::Done | Outcome::NoOp => {
                    assert!(result.is_ok(), "{start:?}: {result:?}")
                }
                // Both refusals name the work unit (and its spec) the
                // attempt is on.
                Outcome::LostLease => {
                    assert!(
                        matches!(&result, Err(Error::LostLease { work_spec, work_unit })
                            if *work_spec == unit.work_spec().name() && work_unit == unit.name()),
                        "{start:?}: {result:?}"
                    )
                }
                Outcome::NotPending => {
                    assert!(
                        matches!(&result, Err(Error::NotPending { work_spec, work_unit })
                            if *work_spec == unit.work_spec().name() && work_unit == unit.name()),
                        "{start:?}: {result:?}"
                    )
                }
            }
            let status = attempt.status().expect("status");
            let expected_status = match outcome {
                Outcome::Done => ended,
                Outcome::LostLease => AttemptStatus::Expired,
                Outcome::NoOp | Outcome::NotPending => start.status(),
            };
            assert_eq!(status, expected_status, "{start:?}");
            let expected_data = match outcome {
                Outcome::Done | Outcome::LostLease => given.unwrap_or_else(|| unit_data(start)),
                Outcome::NoOp | Outcome::NotPending => unit_data(start),
            };
            assert_eq!(attempt.data().expect("data"), expected_data, "{start:?}");
            let end = attempt.end_time().expect("end_time");
            assert_eq!(end.is_some(), status != AttemptStatus::Pending, "{start:?}");
            let expected_unit = if outcome == Outcome::Done && start.active() {
                unit_after
            } else {
                unit_before
            };
            assert_eq!(
                unit.status().expect("unit status"),
                expected_unit,
                "{start:?}"
            );
        }
        // The worker's active list holds exactly its pending attempts.
        let mut pending = Vec::new();
        for (_, _, attempt) in &self.rows {
            if attempt.status().expect("status") == AttemptStatus::Pending {
                pending.push(attempt.work_unit().name().to_owned());
            }
        }
        pending.sort();
        let mut listed = unit_names(&self.worker.active_attempts().expect("active_attempts"));
        listed.sort();
        assert_eq!(listed, pending);
    }
}

/// Makes an attempt on a fresh unit and drives it to `start`.
pub(crate) fn prepare(
    spec: &Arc<dyn WorkSpec>,
    worker: &dyn Worker,
    start: Start,
) -> (Arc<dyn WorkUnit>, Arc<dyn Attempt>) {
    let unit = spec
        .add_work_unit(
            &format!("{start:?}"),
            unit_data(start),
            WorkUnitMeta::default(),
        )
        .expect("add");
    let lifetime = if start == Start::TimedOut {
        Duration::from_secs(1)
    } else {
        Duration::from_secs(24 * 3600)
    };
    let attempt = worker
        .make_attempt(unit.clone(), lifetime)
        .expect("make_attempt");
    match start {
        Start::Pending | Start::TimedOut => Ok(()),
        Start::Expired => attempt.expire(None),
        Start::Superseded => unit.clear_active_attempt(),
        Start::Finished => attempt.finish(None),
        Start::Failed => attempt.fail(None),
        Start::Retryable => attempt.retry(None, Duration::ZERO),
    }
    .expect("drive the attempt");
    (unit, attempt)
}

/// Renew: extends a live lease; a lost lease ends expired; ended attempts are not pending (SPEC table).
pub fn renew_in_every_status(backend: Backend<'_>) {
    Table::new(backend).check(
        |a, d| a.renew(Duration::from_secs(600), d),
        true,
        |start| match start {
            Start::Pending => Outcome::Done,
            Start::Expired | Start::TimedOut | Start::Superseded => Outcome::LostLease,
            _ => Outcome::NotPending,
        },
        AttemptStatus::Pending,
        WorkUnitStatus::Pending,
    );
}

/// Expire: ends a pending attempt, does nothing to an expired one, refuses ended ones (SPEC table).
pub fn expire_in_every_status(backend: Backend<'_>) {
    Table::new(backend).check(
        |a, d| a.expire(d),
        true,
        |start| match start {
            Start::Pending | Start::Superseded => Outcome::Done,
            Start::Expired | Start::TimedOut => Outcome::NoOp,
            _ => Outcome::NotPending,
        },
        AttemptStatus::Expired,
        WorkUnitStatus::Available,
    );
}

/// Finish: allowed while pending and after fail; refused after expiry, finish and retry (SPEC table).
pub fn finish_in_every_status(backend: Backend<'_>) {
    finish_table(backend, true);
}

/// Finish without data, in a spec whose `then` exists, follows the same table and keeps the attempt's data.
pub fn finish_without_data_in_every_status(backend: Backend<'_>) {
    finish_table(backend, false);
}

/// The finish table; without data, the spec chains to an existing spec,
/// so that a backend must look at the stored data to decide on chaining
/// whatever state the attempt is in.
fn finish_table(backend: Backend<'_>, with_data: bool) {
    let table = if with_data {
        Table::new(backend)
    } else {
        let table = Table::with_spec_keys(backend, &[("then", text("next"))]);
        table.fx.spec("next", &[]);
        table
    };
    table.check(
        |a, d| a.finish(d),
        with_data,
        |start| match start {
            Start::Pending | Start::Superseded | Start::Failed => Outcome::Done,
            _ => Outcome::NotPending,
        },
        AttemptStatus::Finished,
        WorkUnitStatus::Finished,
    );
}

/// Fail: allowed only while pending (SPEC table).
pub fn fail_in_every_status(backend: Backend<'_>) {
    Table::new(backend).check(
        |a, d| a.fail(d),
        true,
        |start| match start {
            Start::Pending | Start::Superseded => Outcome::Done,
            _ => Outcome::NotPending,
        },
        AttemptStatus::Failed,
        WorkUnitStatus::Failed,
    );
}

/// Retry: allowed only while pending; the unit becomes available (SPEC table).
pub fn retry_in_every_status(backend: Backend<'_>) {
    Table::new(backend).check(
        |a, d| a.retry(d, Duration::ZERO),
        true,
        |start| match start {
            Start::Pending | Start::Superseded => Outcome::Done,
            _ => Outcome::NotPending,
        },
        AttemptStatus::Retryable,
        WorkUnitStatus::Available,
    );
}

/// Passing `None` as data to any call keeps the data the attempt already has.
pub fn none_data_keeps_attempt_data(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let worker = fx.worker("worker");
    type Call = fn(&dyn Attempt) -> Result<()>;
    let calls: [(&str, Call); 5] = [
        ("renew", |a| a.renew(Duration::from_secs(60), None)),
        ("expire", |a| a.expire(None)),
        ("finish", |a| a.finish(None)),
        ("fail", |a| a.fail(None)),
        ("retry", |a| a.retry(None, Duration::ZERO)),
    ];
    for (name, call) in calls {
        let unit = spec
            .add_work_unit(name, data(&[("own", text(name))]), WorkUnitMeta::default())
            .expect("add");
        let attempt = worker
            .make_attempt(unit.clone(), Duration::from_secs(600))
            .expect("make_attempt");
        let progress = data(&[("progress", text(name))]);
        attempt
            .renew(Duration::from_secs(600), Some(progress.clone()))
            .expect("renew");
        call(attempt.as_ref()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(attempt.data().expect("data"), progress, "{name}");
    }
}

/// Renewing sets the expiration to now plus the extension, so the unit is not handed out meanwhile.
pub fn renew_extends_lease_from_now(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let unit = fx.unit(&spec, "unit");
    let worker = fx.worker("worker");
    let attempt = request_one(worker.as_ref());
    fx.clock.advance(Duration::from_secs(600));
    attempt
        .renew(Duration::from_secs(3600), None)
        .expect("renew");
    assert_eq!(
        attempt.expiration_time().expect("expiration"),
        fx.clock.now() + chrono::Duration::hours(1)
    );
    // Past the original 15 minutes, inside the renewed hour.
    fx.clock.advance(Duration::from_secs(1800));
    let other = fx.worker("other");
    crate::attempt::request_none(other.as_ref());
    assert_eq!(attempt.status().expect("status"), AttemptStatus::Pending);
    assert_eq!(unit.status().expect("status"), WorkUnitStatus::Pending);

    fx.clock.advance(Duration::from_secs(3600));
    assert_eq!(request_one(other.as_ref()).work_unit().name(), "unit");
    assert!(matches!(
        attempt.renew(Duration::from_secs(60), None),
        Err(Error::LostLease { .. })
    ));
}

/// A stale attempt's calls never disturb the lease another worker now holds.
pub fn stale_attempt_leaves_new_lease_alone(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let unit = fx.unit(&spec, "unit");
    let lifetime = Duration::from_secs(600);
    let stale = [
        fx.worker("a").make_attempt(unit.clone(), lifetime),
        fx.worker("b").make_attempt(unit.clone(), lifetime),
        fx.worker("c").make_attempt(unit.clone(), lifetime),
    ]
    .map(|a| a.expect("make_attempt"));
    let current = fx
        .worker("d")
        .make_attempt(unit.clone(), lifetime)
        .expect("make_attempt");

    stale[0].expire(None).expect("expire");
    stale[1].fail(None).expect("fail");
    assert!(matches!(
        stale[2].renew(lifetime, None),
        Err(Error::LostLease { .. })
    ));
    assert_eq!(stale[2].status().expect("status"), AttemptStatus::Expired);
    assert_eq!(unit.status().expect("status"), WorkUnitStatus::Pending);
    let active = unit.active_attempt().expect("active").expect("some");
    assert_eq!(identity(active.as_ref()), identity(current.as_ref()));
    current.finish(None).expect("finish");
    assert_eq!(unit.status().expect("status"), WorkUnitStatus::Finished);
}

/// Expiry by the clock takes attempts off their worker's active list.
pub fn expiry_empties_worker_active_list(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    for name in ["a", "b"] {
        fx.unit(&spec, name);
    }
    let worker = fx.worker("worker");
    let attempts = worker
        .request_attempts(&coordinate_api::AttemptRequest {
            number_of_work_units: 2,
            ..Default::default()
        })
        .expect("request");
    assert_eq!(attempts.len(), 2);
    assert_eq!(worker.active_attempts().expect("active").len(), 2);
    fx.clock.advance(Duration::from_secs(3600));
    for attempt in &attempts {
        assert_eq!(attempt.status().expect("status"), AttemptStatus::Expired);
    }
    assert!(worker.active_attempts().expect("active").is_empty());
    assert_eq!(worker.all_attempts().expect("all").len(), 2);
}
