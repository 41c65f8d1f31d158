//! Data round trips: spec definitions, unit, attempt and worker data keep
//! every CBOR value exactly (empty lists, bytes, tags, nested maps,
//! floats, extreme integers).

use std::collections::BTreeMap;
use std::time::Duration;

use coordinate_api::data::{TAG_TUPLE, TAG_UUID};
use coordinate_api::{Clock, Data, Value, WorkUnitMeta, WorkUnitQuery};

use crate::{definition, Backend, Fixture};

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

fn map(pairs: Vec<(Value, Value)>) -> Value {
    Value::Map(pairs.into_iter().collect::<BTreeMap<_, _>>())
}

/// Data holding every kind of value the store must keep exactly.
pub(crate) fn rich_data() -> Data {
    let uuid = Value::Tag(TAG_UUID, Box::new(Value::Bytes((0..16).collect())));
    let tuple = Value::Tag(
        TAG_TUPLE,
        Box::new(Value::Array(vec![
            text("a"),
            Value::Integer(1),
            Value::Bytes(b"k".to_vec()),
        ])),
    );
    let nested = map(vec![
        (
            text("config"),
            map(vec![
                (text("empty_list"), Value::Array(vec![])),
                (
                    text("list"),
                    Value::Array(vec![Value::Integer(1), Value::Array(vec![]), map(vec![])]),
                ),
            ]),
        ),
        // Python clients may put non-text keys below the top level.
        (Value::Integer(7), text("integer key")),
        (Value::Bytes(b"raw".to_vec()), Value::Null),
    ]);
    let pairs = vec![
        ("empty_list", Value::Array(vec![])),
        ("empty_map", map(vec![])),
        ("bytes", Value::Bytes(vec![0, 1, 2, 0xfe, 0xff])),
        ("empty_bytes", Value::Bytes(vec![])),
        ("uuid", uuid),
        ("tuple", tuple),
        ("nested", nested),
        ("float", Value::Float(1.5)),
        ("negative_float", Value::Float(-2.25)),
        ("tiny_float", Value::Float(1e-300)),
        ("huge_float", Value::Float(f64::MAX)),
        ("third", Value::Float(1.0 / 3.0)),
        ("negative_int", Value::Integer(-42)),
        ("min_i64", Value::Integer(i128::from(i64::MIN))),
        ("max_u64", Value::Integer(i128::from(u64::MAX))),
        ("null", Value::Null),
        ("true", Value::Bool(true)),
        ("false", Value::Bool(false)),
        ("unicode", text("naïve — 日本語 🚀")),
        ("empty_text", text("")),
        ("text_with_nul", text("a\0b")),
        ("", text("empty key")),
    ];
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

fn one(key: &str, value: Value) -> Data {
    Data::from([(key.to_owned(), value)])
}

/// A work spec definition with every kind of value comes back exactly.
pub fn spec_data_round_trips(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let mut wanted = rich_data();
    wanted.insert("name".into(), text("spec"));
    let spec = fx.namespace.set_work_spec(wanted.clone()).expect("set");
    assert_eq!(spec.data().expect("data"), wanted);
    let found = fx.namespace.work_spec("spec").expect("work_spec");
    assert_eq!(found.data().expect("data"), wanted);

    let mut changed = rich_data();
    changed.insert("name".into(), text("spec"));
    changed.insert("extra".into(), Value::Array(vec![]));
    spec.set_data(changed.clone()).expect("set_data");
    assert_eq!(found.data().expect("data"), changed);
}

/// An empty list nested in a spec's config stays an empty list (go: TestDataEmptyList).
pub fn spec_empty_list_stays_a_list(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let config = map(vec![(text("empty_list"), Value::Array(vec![]))]);
    let spec = fx.spec("spec", &[("config", config.clone())]);
    let data = spec.data().expect("data");
    assert_eq!(data.get("config"), Some(&config));
}

/// A unit's data comes back exactly through every way of reading the unit.
pub fn unit_data_round_trips(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let unit = spec
        .add_work_unit("unit", rich_data(), WorkUnitMeta::default())
        .expect("add");
    assert_eq!(unit.data().expect("data"), rich_data());
    let found = spec.work_unit("unit").expect("work_unit");
    assert_eq!(found.data().expect("data"), rich_data());
    let listed = spec.work_units(&WorkUnitQuery::all()).expect("units");
    assert_eq!(listed[0].data().expect("data"), rich_data());
}

/// Attempt data starts as the unit's and keeps whatever renew and finish give it.
pub fn attempt_data_round_trips(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let unit_data = one("unit", Value::Integer(1));
    let unit = spec
        .add_work_unit("unit", unit_data.clone(), WorkUnitMeta::default())
        .expect("add");
    let worker = fx.worker("worker");
    let attempt = worker
        .make_attempt(unit.clone(), Duration::from_secs(60))
        .expect("make_attempt");
    assert_eq!(attempt.data().expect("data"), unit_data);

    attempt
        .renew(Duration::from_secs(60), Some(rich_data()))
        .expect("renew");
    assert_eq!(attempt.data().expect("data"), rich_data());
    let mut finished = rich_data();
    finished.insert("output".into(), Value::Array(vec![]));
    attempt.finish(Some(finished.clone())).expect("finish");
    assert_eq!(attempt.data().expect("data"), finished);
    let listed = worker.all_attempts().expect("all_attempts");
    assert_eq!(listed[0].data().expect("data"), finished);
    let history = unit.attempts().expect("attempts");
    assert_eq!(history[0].data().expect("data"), finished);
}

/// A worker's reported data comes back exactly.
pub fn worker_data_round_trips(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let worker = fx.worker("worker");
    let now = fx.clock.now();
    let later = now + chrono::Duration::seconds(60);
    worker
        .update(rich_data(), now, later, "run")
        .expect("update");
    assert_eq!(worker.data().expect("data"), rich_data());
    let again = fx.worker("worker");
    assert_eq!(again.data().expect("data"), rich_data());
    worker
        .update(Data::new(), now, later, "idle")
        .expect("update empty");
    assert!(again.data().expect("data").is_empty());
}

/// A unit shows its finished attempt's data, and its own once cleared or after an expired attempt.
pub fn unit_shows_finished_attempt_data(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let own = one("own", Value::Bool(true));
    let unit = spec
        .add_work_unit("unit", own.clone(), WorkUnitMeta::default())
        .expect("add");
    let worker = fx.worker("worker");
    let lease = Duration::from_secs(60);

    let attempt = worker.make_attempt(unit.clone(), lease).expect("attempt");
    attempt
        .finish(Some(one("result", Value::Integer(3))))
        .expect("finish");
    assert_eq!(unit.data().expect("data"), one("result", Value::Integer(3)));
    unit.clear_active_attempt().expect("clear");
    assert_eq!(unit.data().expect("data"), own);

    // An expired attempt is no longer active, so its data stops showing.
    let attempt = worker.make_attempt(unit.clone(), lease).expect("attempt");
    attempt
        .expire(Some(one("expired", Value::Null)))
        .expect("expire");
    assert_eq!(unit.data().expect("data"), own);
}

/// A unit shows its failed attempt's data (a traceback, say) while that attempt stays active.
pub fn unit_shows_failed_attempt_data(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let own = one("own", Value::Bool(true));
    let unit = spec
        .add_work_unit("unit", own.clone(), WorkUnitMeta::default())
        .expect("add");
    let worker = fx.worker("worker");
    let attempt = worker
        .make_attempt(unit.clone(), Duration::from_secs(60))
        .expect("attempt");
    let failure = one("traceback", Value::Text("it broke".into()));
    attempt.fail(Some(failure.clone())).expect("fail");
    assert_eq!(unit.data().expect("data"), failure);
    unit.clear_active_attempt().expect("clear");
    assert_eq!(unit.data().expect("data"), own);
}

/// New data replaces old data wholesale; nothing is merged.
pub fn data_is_replaced_not_merged(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[("first", Value::Integer(1))]);
    spec.set_data(definition("spec", &[("second", Value::Integer(2))]))
        .expect("set_data");
    assert_eq!(
        spec.data().expect("data"),
        definition("spec", &[("second", Value::Integer(2))])
    );
    spec.add_work_unit(
        "unit",
        one("first", Value::Integer(1)),
        WorkUnitMeta::default(),
    )
    .expect("add");
    let unit = spec
        .add_work_unit(
            "unit",
            one("second", Value::Integer(2)),
            WorkUnitMeta::default(),
        )
        .expect("re-add");
    assert_eq!(unit.data().expect("data"), one("second", Value::Integer(2)));
}

/// Deep nesting (within the limit) and a megabyte of bytes survive.
pub fn deep_and_large_data_round_trips(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let mut deep = Value::Array(vec![]);
    for level in 0..90 {
        deep = if level % 2 == 0 {
            Value::Array(vec![deep])
        } else {
            map(vec![(text("down"), deep)])
        };
    }
    let mut wanted = one("deep", deep);
    wanted.insert("large".into(), Value::Bytes(vec![0xa5; 1 << 20]));
    let unit = spec
        .add_work_unit("unit", wanted.clone(), WorkUnitMeta::default())
        .expect("add");
    assert_eq!(unit.data().expect("data"), wanted);
}
