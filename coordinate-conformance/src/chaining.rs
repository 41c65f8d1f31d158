//! Chaining: a finished attempt's `output` becomes units of the work spec
//! its own work spec names in `then`.

use std::sync::Arc;
use std::time::Duration;

use coordinate_api::data::TAG_TUPLE;
use coordinate_api::{
    Attempt, AttemptRequest, Data, Value, WorkSpec, WorkUnitMeta, WorkUnitQuery, WorkUnitStatus,
    Worker,
};

use crate::attempt::{data, request_none, text};
use crate::{Backend, Fixture};

/// Spec "one" chaining into spec "two" (paused, so work always comes from
/// "one"), and a worker.
pub(crate) struct Chain {
    pub(crate) fx: Fixture,
    pub(crate) one: Arc<dyn WorkSpec>,
    pub(crate) two: Arc<dyn WorkSpec>,
    pub(crate) worker: Arc<dyn Worker>,
}

impl Chain {
    pub(crate) fn new(backend: Backend<'_>) -> Chain {
        let fx = Fixture::new(backend);
        let one = fx.spec("one", &[("then", text("two"))]);
        let two = fx.spec("two", &[("disabled", Value::Bool(true))]);
        let worker = fx.worker("worker");
        Chain {
            fx,
            one,
            two,
            worker,
        }
    }

    /// Adds `name` to "one" with `data` and claims it.
    pub(crate) fn claim(&self, name: &str, data: Data) -> Arc<dyn Attempt> {
        self.one
            .add_work_unit(name, data, WorkUnitMeta::default())
            .expect("add");
        let mut attempts = self
            .worker
            .request_attempts(&AttemptRequest {
                work_specs: vec!["one".into()],
                ..AttemptRequest::default()
            })
            .expect("request");
        assert_eq!(attempts.len(), 1);
        let attempt = attempts.pop().expect("attempt");
        assert_eq!(attempt.work_unit().name(), name);
        attempt
    }

    /// Adds, claims and finishes a unit of "one" whose finish data has
    /// `output`.
    pub(crate) fn finish_with(&self, name: &str, output: Value) {
        self.claim(name, Data::new())
            .finish(Some(data(&[("output", output)])))
            .expect("finish");
    }
}

/// Names of a spec's units, in name order.
pub(crate) fn names(spec: &Arc<dyn WorkSpec>) -> Vec<String> {
    spec.work_units(&WorkUnitQuery::all())
        .expect("work_units")
        .iter()
        .map(|u| u.name().to_owned())
        .collect()
}

pub(crate) fn tuple(items: Vec<Value>) -> Value {
    Value::Tag(TAG_TUPLE, Box::new(Value::Array(items)))
}

pub(crate) fn map(pairs: &[(&str, Value)]) -> Value {
    Value::Map(pairs.iter().map(|(k, v)| (text(k), v.clone())).collect())
}

pub(crate) fn names_list(items: &[&str]) -> Value {
    Value::Array(items.iter().map(|s| text(s)).collect())
}

/// No output, map output, list output and output in the unit's own data (go: TestWorkUnitChaining).
pub fn work_unit_chaining(backend: Backend<'_>) {
    let chain = Chain::new(backend);
    chain.claim("a", Data::new()).finish(None).expect("finish");
    assert!(names(&chain.two).is_empty());

    chain.finish_with("b", map(&[("two_b", map(&[("k", text("v"))]))]));
    assert_eq!(names(&chain.two), ["two_b"]);
    let two_b = chain.two.work_unit("two_b").expect("two_b");
    assert_eq!(two_b.data().expect("data"), data(&[("k", text("v"))]));

    chain.finish_with("c", names_list(&["two_c", "two_cc"]));
    assert_eq!(names(&chain.two), ["two_b", "two_c", "two_cc"]);
    let two_c = chain.two.work_unit("two_c").expect("two_c");
    assert!(two_c.data().expect("data").is_empty());

    let own = data(&[("output", names_list(&["two_d"]))]);
    chain.claim("d", own).finish(None).expect("finish");
    assert_eq!(names(&chain.two), ["two_b", "two_c", "two_cc", "two_d"]);
}

/// Names and a tuple item mix in one output; the tuple's meta sets priority (go: TestChainingMixed).
pub fn chaining_mixed(backend: Backend<'_>) {
    let chain = Chain::new(backend);
    let item = tuple(vec![
        text("key"),
        map(&[("data", text("x"))]),
        map(&[("priority", Value::Float(10.0))]),
    ]);
    chain.finish_with("a", Value::Array(vec![text("key"), item]));
    let unit = chain.two.work_unit("key").expect("key");
    assert_eq!(unit.data().expect("data"), data(&[("data", text("x"))]));
    assert_eq!(unit.priority().expect("priority"), 10.0);
}

/// Output given at renew still chains at a data-less finish; byte-string names work (go: TestChainingTwoStep).
pub fn chaining_two_step(backend: Backend<'_>) {
    let chain = Chain::new(backend);
    let attempt = chain.claim("a", Data::new());
    let name = vec![1u8, 2, 3, 4];
    let output = Value::Array(vec![
        Value::Bytes(name.clone()),
        tuple(vec![
            Value::Bytes(name),
            map(&[]),
            map(&[("priority", Value::Integer(0))]),
        ]),
    ]);
    attempt
        .renew(Duration::from_secs(900), Some(data(&[("output", output)])))
        .expect("renew");
    attempt.finish(None).expect("finish");
    assert_eq!(names(&chain.two), ["\u{1}\u{2}\u{3}\u{4}"]);
    let unit = chain.two.work_unit("\u{1}\u{2}\u{3}\u{4}").expect("unit");
    assert!(unit.data().expect("data").is_empty());
    assert_eq!(unit.priority().expect("priority"), 0.0);
}

/// An attempt that lost its unit before finishing creates no output units (go: TestChainingExpiry).
pub fn chaining_expiry(backend: Backend<'_>) {
    let chain = Chain::new(backend);
    let attempt = chain.claim("a", Data::new());
    let unit = attempt.work_unit();
    unit.clear_active_attempt().expect("clear");
    let again = crate::attempt::request_one(chain.worker.as_ref());
    assert_eq!(again.work_unit().name(), "a");

    attempt
        .finish(Some(data(&[("output", names_list(&["unit"]))])))
        .expect("finish");
    assert!(names(&chain.two).is_empty());
    assert_eq!(unit.status().expect("status"), WorkUnitStatus::Pending);
}

/// The same output unit produced twice is re-created and done twice (go: TestChainingDuplicate).
pub fn chaining_duplicate(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let one = fx.spec(
        "one",
        &[("then", text("two")), ("priority", Value::Integer(1))],
    );
    fx.spec("two", &[("priority", Value::Integer(2))]);
    fx.unit(&one, "a");
    fx.unit(&one, "b");
    let worker = fx.worker("worker");
    let output = data(&[("output", names_list(&["z"]))]);
    for name in ["a", "b"] {
        let attempt = crate::attempt::request_one(worker.as_ref());
        assert_eq!(attempt.work_unit().name(), name);
        attempt.finish(Some(output.clone())).expect("finish");
        let attempt = crate::attempt::request_one(worker.as_ref());
        assert_eq!(attempt.work_unit().name(), "z");
        assert_eq!(attempt.work_unit().work_spec().name(), "two");
        attempt.finish(Some(Data::new())).expect("finish");
    }
    request_none(worker.as_ref());
}

/// `then` naming a missing work spec: finish succeeds and nothing is created anywhere.
pub fn chaining_to_missing_spec(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let one = fx.spec("one", &[("then", text("nowhere"))]);
    let unit = fx.unit(&one, "a");
    let attempt = crate::attempt::request_one(fx.worker("worker").as_ref());
    attempt
        .finish(Some(data(&[("output", names_list(&["x", "y"]))])))
        .expect("finish");
    assert_eq!(unit.status().expect("status"), WorkUnitStatus::Finished);
    assert_eq!(fx.namespace.work_spec_names().expect("names"), ["one"]);
    assert_eq!(names(&one), ["a"]);
}

/// Without `then`, output is just data: no units appear.
pub fn no_then_no_chaining(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let one = fx.spec("one", &[]);
    let two = fx.spec("two", &[("disabled", Value::Bool(true))]);
    fx.unit(&one, "a");
    crate::attempt::request_one(fx.worker("worker").as_ref())
        .finish(Some(data(&[("output", names_list(&["x"]))])))
        .expect("finish");
    assert!(names(&two).is_empty());
    assert_eq!(names(&one), ["a"]);
}

/// Finish data's `output` wins over the unit's own `output`.
pub fn chaining_prefers_finish_data(backend: Backend<'_>) {
    let chain = Chain::new(backend);
    let own = data(&[("output", names_list(&["from_unit"]))]);
    chain
        .claim("a", own)
        .finish(Some(data(&[("output", names_list(&["from_finish"]))])))
        .expect("finish");
    assert_eq!(names(&chain.two), ["from_finish"]);
}

/// Fail, retry and expire never chain, even with output.
pub fn only_finish_chains(backend: Backend<'_>) {
    let chain = Chain::new(backend);
    let output = data(&[("output", names_list(&["x"]))]);
    chain
        .claim("a", Data::new())
        .fail(Some(output.clone()))
        .expect("fail");
    chain
        .claim("b", Data::new())
        .retry(Some(output.clone()), Duration::from_secs(3600))
        .expect("retry");
    chain
        .claim("c", Data::new())
        .expire(Some(output))
        .expect("expire");
    assert!(names(&chain.two).is_empty());
}

/// A failed attempt finished afterwards is still active, so it chains.
pub fn finish_after_fail_chains(backend: Backend<'_>) {
    let chain = Chain::new(backend);
    let attempt = chain.claim("a", Data::new());
    attempt.fail(None).expect("fail");
    attempt
        .finish(Some(data(&[("output", names_list(&["late"]))])))
        .expect("finish after fail");
    assert_eq!(names(&chain.two), ["late"]);
    let unit = chain.one.work_unit("a").expect("a");
    assert_eq!(unit.status().expect("status"), WorkUnitStatus::Finished);
}

/// A work spec may chain into itself.
pub fn chaining_into_own_spec(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("loop", &[("then", text("loop"))]);
    fx.unit(&spec, "first");
    let worker = fx.worker("worker");
    crate::attempt::request_one(worker.as_ref())
        .finish(Some(data(&[("output", names_list(&["second"]))])))
        .expect("finish");
    assert_eq!(names(&spec), ["first", "second"]);
    let next = crate::attempt::request_one(worker.as_ref());
    assert_eq!(next.work_unit().name(), "second");
}

/// Chaining follows the current definition: removing `then` stops it.
pub fn chaining_follows_current_definition(backend: Backend<'_>) {
    let chain = Chain::new(backend);
    let attempt = chain.claim("a", Data::new());
    chain
        .one
        .set_data(crate::definition("one", &[]))
        .expect("set_data");
    attempt
        .finish(Some(data(&[("output", names_list(&["x"]))])))
        .expect("finish");
    assert!(names(&chain.two).is_empty());
}
