//! Chaining, continued: the shapes `output` may take (maps, lists of
//! names, `[name, data, meta, priority]` items, tuples, byte-string names)
//! and what happens to malformed items and existing units.

use std::time::Duration;

use coordinate_api::{Clock, Value, WorkUnitMeta, WorkUnitStatus};

use crate::attempt::{data, text};
use crate::chaining::{map, names, tuple, Chain};
use crate::Backend;

/// `[name, data, meta, priority]` items set data, priority (fourth item wins) and a delay.
pub fn chaining_full_items(backend: Backend<'_>) {
    let chain = Chain::new(backend);
    let output = Value::Array(vec![
        Value::Array(vec![text("plain"), map(&[("x", Value::Integer(1))])]),
        Value::Array(vec![
            text("meta"),
            map(&[]),
            map(&[("priority", Value::Integer(3))]),
        ]),
        Value::Array(vec![
            text("override"),
            map(&[]),
            map(&[("priority", Value::Integer(3))]),
            Value::Float(7.5),
        ]),
        Value::Array(vec![
            text("null priority"),
            Value::Null,
            map(&[("priority", Value::Integer(4))]),
            Value::Null,
        ]),
        Value::Array(vec![
            text("delayed"),
            map(&[]),
            map(&[("delay", Value::Integer(90))]),
        ]),
    ]);
    let now = chain.fx.clock.now();
    chain.finish_with("a", output);
    let unit = |name: &str| chain.two.work_unit(name).expect(name);
    assert_eq!(
        unit("plain").data().expect("data"),
        data(&[("x", Value::Integer(1))])
    );
    assert_eq!(unit("plain").priority().expect("priority"), 0.0);
    assert_eq!(unit("meta").priority().expect("priority"), 3.0);
    assert_eq!(unit("override").priority().expect("priority"), 7.5);
    assert_eq!(unit("null priority").priority().expect("priority"), 4.0);
    assert!(unit("null priority").data().expect("data").is_empty());

    let delayed = unit("delayed");
    assert_eq!(
        delayed.meta().expect("meta").not_before,
        Some(now + chrono::Duration::seconds(90))
    );
    assert_eq!(delayed.status().expect("status"), WorkUnitStatus::Delayed);
    chain.fx.clock.advance(Duration::from_secs(91));
    assert_eq!(delayed.status().expect("status"), WorkUnitStatus::Available);
}

/// An output that is itself a tuple (tag 128) of names is a list.
pub fn chaining_tuple_output(backend: Backend<'_>) {
    let chain = Chain::new(backend);
    chain.finish_with("a", tuple(vec![text("t1"), Value::Bytes(b"t2".to_vec())]));
    assert_eq!(names(&chain.two), ["t1", "t2"]);
}

/// Byte-string names work in lists, items and as map keys.
pub fn chaining_byte_string_names(backend: Backend<'_>) {
    let chain = Chain::new(backend);
    chain.finish_with(
        "a",
        Value::Array(vec![
            Value::Bytes(b"listed".to_vec()),
            Value::Array(vec![Value::Bytes(b"item".to_vec()), map(&[])]),
        ]),
    );
    let keyed = Value::Map(
        [(
            Value::Bytes(b"keyed".to_vec()),
            map(&[("k", Value::Integer(1))]),
        )]
        .into_iter()
        .collect(),
    );
    chain.finish_with("b", keyed);
    assert_eq!(names(&chain.two), ["item", "keyed", "listed"]);
    let keyed = chain.two.work_unit("keyed").expect("keyed");
    assert_eq!(
        keyed.data().expect("data"),
        data(&[("k", Value::Integer(1))])
    );
}

/// Malformed items are skipped; the good ones are still created.
pub fn chaining_skips_bad_items(backend: Backend<'_>) {
    let chain = Chain::new(backend);
    chain.finish_with(
        "a",
        Value::Array(vec![
            Value::Integer(1),
            Value::Array(vec![text("too short")]),
            Value::Array(vec![Value::Integer(5), map(&[])]),
            Value::Array(vec![text("bad data"), Value::Integer(5)]),
            Value::Array(vec![text("bad meta"), map(&[]), text("m")]),
            Value::Array(vec![text("bad priority"), map(&[]), Value::Null, text("p")]),
            text(""),
            text("good"),
        ]),
    );
    chain.finish_with(
        "b",
        map(&[("mapped", map(&[])), ("not a map", Value::Integer(5))]),
    );
    assert_eq!(names(&chain.two), ["good", "mapped"]);
}

/// Outputs that are neither map nor list create nothing, and finishing still succeeds.
pub fn chaining_ignores_unusable_output(backend: Backend<'_>) {
    let chain = Chain::new(backend);
    for (i, output) in [
        Value::Null,
        text("just text"),
        Value::Integer(7),
        Value::Array(vec![]),
    ]
    .into_iter()
    .enumerate()
    {
        chain.finish_with(&format!("u{i}"), output);
    }
    assert!(names(&chain.two).is_empty());
}

/// Output naming an existing unit replaces its data and makes it available again.
pub fn chaining_replaces_existing_unit(backend: Backend<'_>) {
    let chain = Chain::new(backend);
    let old = chain
        .two
        .add_work_unit(
            "z",
            data(&[("v", Value::Integer(1))]),
            WorkUnitMeta::default(),
        )
        .expect("add");
    chain
        .worker
        .make_attempt(old.clone(), Duration::from_secs(60))
        .expect("make_attempt")
        .finish(None)
        .expect("finish");
    assert_eq!(old.status().expect("status"), WorkUnitStatus::Finished);

    chain.finish_with("a", map(&[("z", map(&[("v", Value::Integer(2))]))]));
    assert_eq!(old.status().expect("status"), WorkUnitStatus::Available);
    assert_eq!(old.data().expect("data"), data(&[("v", Value::Integer(2))]));
    assert_eq!(names(&chain.two), ["z"]);
}
