//! Batched completions and renewals: `Namespace::complete_attempts` and
//! `Namespace::renew_attempts` give exactly what the single calls give
//! when applied one by one in the batch's order.
//!
//! The main cases build two identical worlds (one attempt in every status
//! of the lifecycle table, in a spec whose `then` exists), apply the same
//! script to both, one call at a time in the first and as one batch in the
//! second, and compare every answer and everything left behind.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use coordinate_api::{
    Attempt, AttemptStatus, Completion, Data, Error, Outcome, Result, Value, WorkSpec, WorkUnit,
    WorkUnitQuery, WorkUnitStatus, Worker,
};

use crate::attempt::{data, request_one, text, unit_names};
use crate::attempt_lifecycle::{prepare, Start, STARTS};
use crate::{Backend, Fixture};

/// An attempt, its unit and the lifecycle start it was driven to.
type Row = (Start, Arc<dyn WorkUnit>, Arc<dyn Attempt>);

/// One attempt per lifecycle start, in a spec chaining to `next`.
struct World {
    fx: Fixture,
    worker: Arc<dyn Worker>,
    next: Arc<dyn WorkSpec>,
    rows: Vec<Row>,
}

impl World {
    fn new(backend: Backend<'_>) -> World {
        let fx = Fixture::new(backend);
        let next = fx.spec("next", &[]);
        let spec = fx.spec("spec", &[("then", text("next"))]);
        let worker = fx.worker("worker");
        let rows = STARTS
            .iter()
            .map(|&start| {
                let (unit, attempt) = prepare(&spec, worker.as_ref(), start);
                (start, unit, attempt)
            })
            .collect();
        // The TimedOut attempt's one-second lease runs out.
        fx.clock.advance(Duration::from_secs(60));
        World {
            fx,
            worker,
            next,
            rows,
        }
    }

    fn attempt(&self, index: usize) -> Arc<dyn Attempt> {
        self.rows[index].2.clone()
    }

    /// Everything a completion can change, in a comparable form.
    fn snapshot(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for (start, unit, attempt) in &self.rows {
            lines.push(format!(
                "{start:?}: attempt {:?} data {:?} end {:?} | unit {:?} data {:?} attempts {}",
                attempt.status().expect("status"),
                attempt.data().expect("data"),
                attempt.end_time().expect("end_time"),
                unit.status().expect("unit status"),
                unit.data().expect("unit data"),
                unit.num_attempts().expect("num_attempts"),
            ));
        }
        let mut active = unit_names(&self.worker.active_attempts().expect("active"));
        active.sort();
        lines.push(format!("active: {active:?}"));
        let chained = self
            .next
            .work_units(&WorkUnitQuery::default())
            .expect("chained units");
        for unit in chained {
            lines.push(format!(
                "chained {} {:?}",
                unit.name(),
                unit.data().expect("data")
            ));
        }
        lines
    }
}

/// The answer of a call, with the error's kind but not its wording.
fn kind(result: &Result<()>) -> String {
    match result {
        Ok(()) => "ok".to_owned(),
        Err(error) => format!("{error:?}")
            .split(|c: char| !c.is_alphanumeric())
            .next()
            .unwrap_or_default()
            .to_owned(),
    }
}

fn output(name: &str) -> Data {
    data(&[("output", Value::Array(vec![text(name)]))])
}

/// Each start's row, several outcomes, and the same attempt more than once.
fn script() -> Vec<(usize, Outcome)> {
    let note = |s: &str| Some(data(&[("note", text(s))]));
    let mut script = Vec::new();
    let outcomes = [
        Outcome::Finish(Some(output("from-finish"))),
        Outcome::Fail(note("failed")),
        Outcome::Retry {
            data: note("retried"),
            delay: Duration::from_secs(30),
        },
        Outcome::Expire(None),
        Outcome::Finish(None),
        Outcome::Retry {
            data: None,
            delay: Duration::ZERO,
        },
        Outcome::Expire(note("released")),
    ];
    for (index, outcome) in outcomes.iter().enumerate() {
        script.push((index, outcome.clone()));
    }
    // Again, now that each has changed: mostly refused, some allowed
    // (finishing after a fail, expiring an expired attempt).
    for index in 0..STARTS.len() {
        script.push((
            index,
            Outcome::Finish(Some(output(&format!("again-{index}")))),
        ));
        script.push((index, Outcome::Expire(None)));
    }
    script
}

/// A batch with every outcome, refusals and repeats among them, answers
/// and leaves exactly what the single calls do one by one.
pub fn batch_equals_single_calls(backend: Backend<'_>) {
    let one_by_one = World::new(backend);
    let batched = World::new(backend);
    assert_eq!(one_by_one.snapshot(), batched.snapshot(), "same start");
    let script = script();
    let singles: Vec<String> = script
        .iter()
        .map(|(index, outcome)| {
            kind(&Completion::new(one_by_one.attempt(*index), outcome.clone()).apply_alone())
        })
        .collect();
    let batch: Vec<Completion> = script
        .iter()
        .map(|(index, outcome)| Completion::new(batched.attempt(*index), outcome.clone()))
        .collect();
    let answers: Vec<String> = batched
        .fx
        .namespace
        .complete_attempts(&batch)
        .expect("complete_attempts")
        .iter()
        .map(kind)
        .collect();
    assert_eq!(
        answers, singles,
        "one answer per entry, as the single calls"
    );
    assert!(answers.iter().any(|a| a == "ok") && answers.iter().any(|a| a != "ok"));
    assert_eq!(batched.snapshot(), one_by_one.snapshot());
}

/// Refused entries are reported and the others still apply; a finish
/// with `output` chains in the same call.
pub fn batch_refusals_leave_the_rest_applied(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let next = fx.spec("next", &[]);
    let spec = fx.spec("spec", &[("then", text("next"))]);
    for name in ["a", "b", "c"] {
        fx.unit(&spec, name);
    }
    let worker = fx.worker("worker");
    let a = request_one(worker.as_ref());
    let b = request_one(worker.as_ref());
    let c = request_one(worker.as_ref());
    a.finish(None).expect("finish a alone");
    let answers = fx
        .namespace
        .complete_attempts(&[
            Completion::new(a.clone(), Outcome::Fail(None)),
            Completion::new(b.clone(), Outcome::Finish(Some(output("b-out")))),
            Completion::new(
                c.clone(),
                Outcome::Retry {
                    data: None,
                    delay: Duration::from_secs(10),
                },
            ),
        ])
        .expect("complete_attempts");
    assert!(
        matches!(answers[0], Err(Error::NotPending { .. })),
        "{answers:?}"
    );
    assert!(answers[1].is_ok() && answers[2].is_ok(), "{answers:?}");
    assert_eq!(a.status().unwrap(), AttemptStatus::Finished);
    assert_eq!(b.status().unwrap(), AttemptStatus::Finished);
    assert_eq!(c.status().unwrap(), AttemptStatus::Retryable);
    assert_eq!(c.work_unit().status().unwrap(), WorkUnitStatus::Delayed);
    assert_eq!(next.work_unit("b-out").unwrap().name(), "b-out");
    assert!(worker.active_attempts().unwrap().is_empty());
}

/// An empty batch answers with nothing and changes nothing.
pub fn empty_batches(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    assert!(fx.namespace.complete_attempts(&[]).unwrap().is_empty());
    assert!(fx
        .namespace
        .renew_attempts(&[], Duration::from_secs(1))
        .unwrap()
        .is_empty());
}

/// An attempt of another namespace is refused in its entry, naming why;
/// it stays pending, and the rest of the batch applies.
pub fn batch_refuses_other_namespaces(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let other = fx
        .coordinate
        .namespace(&crate::unique_name("other"))
        .expect("namespace");
    let theirs = other
        .set_work_spec(crate::definition("s", &[]))
        .and_then(|spec| {
            spec.add_work_unit("u", Data::new(), Default::default())?;
            other.worker("w")
        })
        .map(|worker| request_one(worker.as_ref()))
        .expect("the other namespace's attempt");
    let spec = fx.spec("s", &[]);
    fx.unit(&spec, "u");
    let ours = request_one(fx.worker("w").as_ref());
    let answers = fx
        .namespace
        .complete_attempts(&[
            Completion::new(theirs.clone(), Outcome::Finish(None)),
            Completion::new(ours.clone(), Outcome::Finish(None)),
        ])
        .expect("complete_attempts");
    assert!(
        matches!(
            &answers[0],
            Err(Error::InvalidInput {
                what: "attempt",
                ..
            })
        ),
        "{answers:?}"
    );
    assert!(answers[1].is_ok(), "{answers:?}");
    assert_eq!(theirs.status().unwrap(), AttemptStatus::Pending);
    assert_eq!(ours.status().unwrap(), AttemptStatus::Finished);
    other.destroy().expect("destroy the other namespace");
}

/// Batch renewal follows `renew` per entry: live leases are extended from
/// now, lost leases are reported (and end expired), ended attempts are
/// not pending; the same as renewing one by one.
pub fn batch_renewal_equals_single_renewals(backend: Backend<'_>) {
    let one_by_one = World::new(backend);
    let batched = World::new(backend);
    let extend = Duration::from_secs(600);
    let singles: Vec<String> = one_by_one
        .rows
        .iter()
        .map(|(_, _, attempt)| kind(&attempt.renew(extend, None)))
        .collect();
    let attempts: Vec<Arc<dyn Attempt>> = batched.rows.iter().map(|r| r.2.clone()).collect();
    let answers: Vec<String> = batched
        .fx
        .namespace
        .renew_attempts(&attempts, extend)
        .expect("renew_attempts")
        .iter()
        .map(kind)
        .collect();
    assert_eq!(answers, singles);
    assert!(
        answers.iter().any(|a| a.starts_with("LostLease")),
        "{answers:?}"
    );
    assert_eq!(batched.snapshot(), one_by_one.snapshot());
    let now: DateTime<Utc> = coordinate_api::Clock::now(batched.fx.clock.as_ref());
    let renewed = &batched.rows[0].2;
    assert_eq!(renewed.status().unwrap(), AttemptStatus::Pending);
    assert_eq!(
        renewed.expiration_time().unwrap(),
        now + chrono::Duration::seconds(600)
    );
}
