//! What the retention cases start from: units in every state, some of
//! them ended long ago, and helpers to look at them.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use coordinate_api::{Attempt, Clock, Error, WorkSpec, WorkUnit, Worker};

use crate::Fixture;

pub(crate) const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// How a unit of the zoo ends up.
#[derive(Clone, Copy)]
pub(crate) enum End {
    Finish,
    Fail,
    Expire,
    Retry(Duration),
    /// Left pending, with a lease far longer than the case.
    Hold,
}

/// Makes a unit called `name` and takes it to `end` through an attempt
/// of `worker`.
pub(crate) fn ended(
    fx: &Fixture,
    spec: &Arc<dyn WorkSpec>,
    worker: &Arc<dyn Worker>,
    name: &str,
    end: End,
) -> (Arc<dyn WorkUnit>, Arc<dyn Attempt>) {
    let unit = fx.unit(spec, name);
    let attempt = worker
        .make_attempt(unit.clone(), 90 * DAY)
        .expect("make_attempt");
    match end {
        End::Finish => attempt.finish(None),
        End::Fail => attempt.fail(None),
        End::Expire => attempt.expire(None),
        End::Retry(delay) => attempt.retry(None, delay),
        End::Hold => Ok(()),
    }
    .expect("end the attempt");
    (unit, attempt)
}

/// A unit in every state, half of them ended long ago: `*-old` ended at
/// the start, `*-new` ten days later (now); the cutoff lies between.
pub(crate) struct Zoo {
    pub(crate) spec: Arc<dyn WorkSpec>,
    pub(crate) worker: Arc<dyn Worker>,
    pub(crate) units: BTreeMap<&'static str, Arc<dyn WorkUnit>>,
    /// The attempt each unit but `available` had.
    pub(crate) attempts: BTreeMap<&'static str, Arc<dyn Attempt>>,
    pub(crate) cutoff: DateTime<Utc>,
}

impl Zoo {
    pub(crate) fn new(fx: &Fixture, spec_name: &str) -> Zoo {
        let spec = fx.spec(spec_name, &[]);
        let worker = fx.worker(&format!("{spec_name}-worker"));
        let (mut units, mut attempts) = (BTreeMap::new(), BTreeMap::new());
        let old: [(&'static str, End); 6] = [
            ("finished-old", End::Finish),
            ("failed-old", End::Fail),
            ("expired-old", End::Expire),
            ("retried-old", End::Retry(Duration::ZERO)),
            ("delayed-old", End::Retry(60 * DAY)),
            ("pending-old", End::Hold),
        ];
        for (name, end) in old {
            let (unit, attempt) = ended(fx, &spec, &worker, name, end);
            units.insert(name, unit);
            attempts.insert(name, attempt);
        }
        let start = fx.clock.now();
        fx.clock.advance(10 * DAY);
        for (name, end) in [("finished-new", End::Finish), ("failed-new", End::Fail)] {
            let (unit, attempt) = ended(fx, &spec, &worker, name, end);
            units.insert(name, unit);
            attempts.insert(name, attempt);
        }
        units.insert("available", fx.unit(&spec, "available"));
        Zoo {
            spec,
            worker,
            units,
            attempts,
            cutoff: start + chrono::Duration::days(5),
        }
    }

    /// The unit called `name`.
    pub(crate) fn unit(&self, name: &str) -> &Arc<dyn WorkUnit> {
        &self.units[name]
    }

    /// Names of the units still there, sorted.
    pub(crate) fn remaining(&self) -> Vec<String> {
        crate::chaining::names(&self.spec)
    }
}

/// Everything observable about a unit and its attempts.
pub(crate) fn state(unit: &Arc<dyn WorkUnit>) -> String {
    let attempts: Vec<_> = unit
        .attempts()
        .expect("attempts")
        .iter()
        .map(|a| {
            (
                a.status().expect("status"),
                a.start_time().expect("start"),
                a.end_time().expect("end"),
                a.expiration_time().expect("expiration"),
                a.worker().name().to_owned(),
            )
        })
        .collect();
    format!(
        "{:?} {:?} {:?} {attempts:?}",
        unit.status().expect("status"),
        unit.meta().expect("meta"),
        unit.data().expect("data"),
    )
}

/// Asserts `result` is InvalidInput.
pub(crate) fn invalid<T: std::fmt::Debug>(what: &str, result: coordinate_api::Result<T>) {
    assert!(
        matches!(result, Err(Error::InvalidInput { .. })),
        "{what}: expected InvalidInput, got {result:?}"
    );
}
