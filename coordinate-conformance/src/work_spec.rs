//! Work specs: definitions, the meta derived from them, and `set_meta`.

use std::time::Duration;

use coordinate_api::{AttemptRequest, Clock, Error, Value, WorkSpecMeta};

use crate::{definition, Backend, Fixture};

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

/// Every magic key set, as go-coordinate's meta tests use them.
fn magic_keys() -> Vec<(&'static str, Value)> {
    vec![
        ("min_gb", Value::Integer(1)),
        ("priority", Value::Integer(10)),
        ("weight", Value::Integer(100)),
        ("disabled", Value::Bool(true)),
        ("continuous", Value::Bool(true)),
        ("interval", Value::Integer(60)),
        ("max_running", Value::Integer(10)),
        ("max_getwork", Value::Integer(1)),
        ("max_retries", Value::Integer(20)),
        ("then", text("spec2")),
        ("runtime", text("go")),
    ]
}

/// The meta `magic_keys` must produce.
fn magic_meta() -> WorkSpecMeta {
    WorkSpecMeta {
        priority: 10,
        weight: 100,
        paused: true,
        continuous: true,
        can_be_continuous: true,
        min_memory_gb: 1.0,
        interval: Duration::from_secs(60),
        next_continuous: None,
        max_running: 10,
        max_attempts_returned: 1,
        max_retries: 20,
        next_work_spec_name: "spec2".into(),
        available_count: 0,
        pending_count: 0,
        runtime: "go".into(),
    }
}

/// `set_data` replaces the definition; bad ones change nothing (go: TestChangeSpecData).
pub fn change_spec_data(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[("min_gb", Value::Integer(1))]);
    let wanted = definition(
        "spec",
        &[("min_gb", Value::Integer(2)), ("foo", text("bar"))],
    );
    spec.set_data(wanted.clone()).expect("set_data");
    assert_eq!(spec.data().expect("data"), wanted);

    assert!(matches!(
        spec.set_data(Default::default()),
        Err(Error::NoWorkSpecName)
    ));
    assert!(matches!(
        spec.set_data(definition("name", &[("min_gb", Value::Integer(3))])),
        Err(Error::ChangedName)
    ));
    assert_eq!(spec.data().expect("data unchanged"), wanted);
    assert_eq!(fx.namespace.work_spec_names().expect("names"), vec!["spec"]);
}

/// A definition with only a name has the default meta (go: TestDefaultMeta).
pub fn default_meta(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    assert_eq!(spec.meta(false).expect("meta"), WorkSpecMeta::default());
    assert_eq!(spec.meta(true).expect("meta"), WorkSpecMeta::default());
}

/// Magic definition keys fill in the meta (go: TestPrefilledMeta).
pub fn prefilled_meta(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &magic_keys());
    assert_eq!(spec.meta(false).expect("meta"), magic_meta());
}

/// `set_data` re-derives the meta (go: TestSetDataSetsMeta).
pub fn set_data_sets_meta(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    assert_eq!(spec.meta(false).expect("meta"), WorkSpecMeta::default());
    spec.set_data(definition("spec", &magic_keys()))
        .expect("set_data");
    assert_eq!(spec.meta(false).expect("meta"), magic_meta());
    spec.set_data(definition("spec", &[])).expect("set_data");
    assert_eq!(spec.meta(false).expect("meta"), WorkSpecMeta::default());
}

/// Weight is 20 − nice unless given, never below 1 (go: TestNiceWeight).
pub fn nice_weight(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[("nice", Value::Integer(5))]);
    let weight = || spec.meta(false).expect("meta").weight;
    assert_eq!(weight(), 15);
    let cases: [(&[(&str, Value)], i32); 5] = [
        (&[("nice", Value::Integer(100))], 1),
        (&[("nice", Value::Integer(-80))], 100),
        (
            &[("weight", Value::Integer(50)), ("nice", Value::Integer(5))],
            50,
        ),
        (&[("weight", Value::Integer(-3))], 1),
        (&[], 20),
    ];
    for (keys, expected) in cases {
        spec.set_data(definition("spec", keys)).expect("set_data");
        assert_eq!(weight(), expected, "{keys:?}");
    }
}

/// Keys of the wrong type are ignored, not errors.
pub fn wrong_type_keys_are_ignored(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec(
        "spec",
        &[
            ("priority", text("high")),
            ("weight", Value::Bool(true)),
            ("disabled", Value::Integer(1)),
            ("continuous", text("yes")),
            ("interval", text("60")),
            ("max_running", Value::Null),
            ("max_getwork", Value::Array(vec![])),
            ("then", Value::Integer(3)),
            ("runtime", Value::Array(vec![])),
        ],
    );
    assert_eq!(spec.meta(false).expect("meta"), WorkSpecMeta::default());
}

/// `set_meta` changes the settable fields and ignores derived ones (go: TestSetMeta).
pub fn set_meta_changes_settable_fields(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec(
        "spec",
        &[
            ("min_gb", Value::Integer(1)),
            ("continuous", Value::Bool(true)),
        ],
    );
    let before = spec.meta(false).expect("meta");
    assert!(before.continuous && before.can_be_continuous);
    assert_eq!(before.min_memory_gb, 1.0);

    let next = fx.clock.now() + chrono::Duration::seconds(300);
    spec.set_meta(WorkSpecMeta {
        priority: 10,
        weight: 100,
        paused: true,
        continuous: false,
        can_be_continuous: false,
        min_memory_gb: 7.0,
        interval: Duration::from_secs(60),
        next_continuous: Some(next),
        max_running: 10,
        max_attempts_returned: 1,
        max_retries: 20,
        next_work_spec_name: "then".into(),
        available_count: 100,
        pending_count: 50,
        runtime: "go".into(),
    })
    .expect("set_meta");

    let expected = WorkSpecMeta {
        priority: 10,
        weight: 100,
        paused: true,
        continuous: false,
        // Derived from the definition: set_meta cannot change these.
        can_be_continuous: true,
        min_memory_gb: 1.0,
        next_work_spec_name: String::new(),
        runtime: String::new(),
        interval: Duration::from_secs(60),
        next_continuous: Some(next),
        max_running: 10,
        max_attempts_returned: 1,
        max_retries: 20,
        available_count: 0,
        pending_count: 0,
    };
    assert_eq!(spec.meta(false).expect("meta"), expected);
    let other_handle = fx.namespace.work_spec("spec").expect("work_spec");
    assert_eq!(other_handle.meta(false).expect("meta"), expected);
}

/// Turning on `continuous` for a spec not defined so fails and changes nothing.
pub fn set_meta_cannot_become_continuous(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let mut meta = spec.meta(false).expect("meta");
    assert!(!meta.continuous && !meta.can_be_continuous);
    meta.continuous = true;
    meta.priority = 5;
    assert!(matches!(
        spec.set_meta(meta),
        Err(Error::CannotBecomeContinuous)
    ));
    assert_eq!(spec.meta(false).expect("meta"), WorkSpecMeta::default());
}

/// A spec defined continuous can be switched off and on again with `set_meta`.
pub fn set_meta_toggles_continuous(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[("continuous", Value::Bool(true))]);
    let mut meta = spec.meta(false).expect("meta");
    meta.continuous = false;
    spec.set_meta(meta.clone()).expect("switch off");
    let off = spec.meta(false).expect("meta");
    assert!(!off.continuous && off.can_be_continuous);
    meta.continuous = true;
    spec.set_meta(meta).expect("switch on");
    assert!(spec.meta(false).expect("meta").continuous);
}

/// `set_data` throws away what `set_meta` changed and re-derives it.
pub fn set_data_resets_set_meta(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[("continuous", Value::Bool(true))]);
    let mut meta = spec.meta(false).expect("meta");
    meta.priority = 7;
    meta.weight = 3;
    meta.paused = true;
    meta.continuous = false;
    meta.max_running = 2;
    spec.set_meta(meta).expect("set_meta");
    spec.set_data(definition("spec", &[("continuous", Value::Bool(true))]))
        .expect("set_data");
    let after = spec.meta(false).expect("meta");
    assert_eq!((after.priority, after.weight), (0, 20));
    assert!(!after.paused && after.continuous);
    assert_eq!(after.max_running, 0);
}

/// `set_data` keeps a next-continuous time that is still in the future.
pub fn set_data_keeps_future_next_continuous(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let keys = [
        ("continuous", Value::Bool(true)),
        ("interval", Value::Integer(60)),
    ];
    let spec = fx.spec("spec", &keys);
    let start = fx.clock.now();
    let worker = fx.worker("worker");
    let got = worker
        .request_attempts(&AttemptRequest::default())
        .expect("request");
    assert_eq!(got.len(), 1, "a continuous spec makes a unit");
    let next = start + chrono::Duration::seconds(60);
    assert_eq!(spec.meta(false).expect("meta").next_continuous, Some(next));

    fx.clock.advance(Duration::from_secs(10));
    let mut redefined = definition("spec", &keys);
    redefined.insert("extra".into(), text("value"));
    spec.set_data(redefined).expect("set_data");
    assert_eq!(spec.meta(false).expect("meta").next_continuous, Some(next));

    // Once that time has passed, redefining must not hold work back.
    fx.clock.advance(Duration::from_secs(120));
    spec.set_data(definition("spec", &keys)).expect("set_data");
    let now = fx.clock.now();
    let after = spec.meta(false).expect("meta").next_continuous;
    assert!(after.is_none_or(|t| t <= now), "{after:?} is after {now}");
}

/// Available and pending counts follow the units (go: TestMetaCounts).
pub fn meta_counts(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let worker = fx.worker("worker");
    let counts = || {
        let meta = spec.meta(true).expect("meta");
        (meta.available_count, meta.pending_count)
    };
    let request_one = || {
        fx.clock.advance(Duration::from_secs(5));
        let mut got = worker
            .request_attempts(&AttemptRequest::default())
            .expect("request");
        assert_eq!(got.len(), 1);
        got.remove(0)
    };
    assert_eq!(counts(), (0, 0));
    fx.unit(&spec, "one");
    assert_eq!(counts(), (1, 0));
    assert_eq!(spec.meta(false).expect("meta").available_count, 0);

    let attempt = request_one();
    assert_eq!(counts(), (0, 1));
    assert_eq!(spec.meta(false).expect("meta").pending_count, 0);
    attempt.expire(None).expect("expire");
    assert_eq!(counts(), (1, 0));

    let attempt = request_one();
    assert_eq!(counts(), (0, 1));
    attempt.retry(None, Duration::ZERO).expect("retry");
    assert_eq!(counts(), (1, 0));

    let attempt = request_one();
    assert_eq!(counts(), (0, 1));
    attempt.finish(None).expect("finish");
    assert_eq!(counts(), (0, 0));
}
