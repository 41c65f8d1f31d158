//! Bad input: every rejected call names the right error and leaves the
//! store as it was; awkward but valid names and values are kept literally.

use std::sync::Arc;
use std::time::Duration;

use coordinate_api::backend::validate::MAX_NAME_BYTES;
use coordinate_api::{
    AttemptRequest, AttemptStatus, Clock, Data, Error, Value, WorkSpec, WorkUnitMeta,
    WorkUnitQuery, WorkUnitStatus,
};

use crate::{definition, Backend, Fixture};

fn is_invalid<T>(result: coordinate_api::Result<T>) -> bool {
    matches!(result, Err(Error::InvalidInput { .. }))
}

/// The names of all of a spec's units, in name order.
pub(crate) fn unit_names(spec: &Arc<dyn WorkSpec>) -> Vec<String> {
    spec.work_units(&WorkUnitQuery::all())
        .expect("work_units")
        .iter()
        .map(|u| u.name().to_owned())
        .collect()
}

fn with_name(name: Value) -> Data {
    Data::from([("name".to_owned(), name)])
}

/// Definitions without a usable name fail with the matching error and create nothing (go: TestSpecErrors).
pub fn spec_definition_errors(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let ns = &fx.namespace;
    assert!(matches!(
        ns.set_work_spec(Data::new()),
        Err(Error::NoWorkSpecName)
    ));
    assert!(matches!(
        ns.set_work_spec(with_name(Value::Text(String::new()))),
        Err(Error::NoWorkSpecName)
    ));
    for bad in [
        Value::Integer(4),
        Value::Null,
        Value::Bool(true),
        Value::Bytes(b"spec".to_vec()),
        Value::Array(vec![Value::Text("spec".into())]),
    ] {
        assert!(
            matches!(
                ns.set_work_spec(with_name(bad.clone())),
                Err(Error::BadWorkSpecName)
            ),
            "{bad:?}"
        );
    }
    assert!(is_invalid(
        ns.set_work_spec(with_name(Value::Text("a\0b".into())))
    ));
    assert!(ns.work_spec_names().expect("names").is_empty());
}

/// `set_data` without a name, with a non-text name or a new name fails and changes nothing.
pub fn set_data_name_errors(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[("priority", Value::Integer(3))]);
    let data_before = spec.data().expect("data");
    let meta_before = spec.meta(false).expect("meta");

    let mut no_name = definition("spec", &[("priority", Value::Integer(9))]);
    no_name.remove("name");
    assert!(matches!(spec.set_data(no_name), Err(Error::NoWorkSpecName)));
    let mut number = definition("spec", &[("priority", Value::Integer(9))]);
    number.insert("name".into(), Value::Integer(4));
    assert!(matches!(spec.set_data(number), Err(Error::BadWorkSpecName)));
    let renamed = definition("other", &[("priority", Value::Integer(9))]);
    assert!(matches!(spec.set_data(renamed), Err(Error::ChangedName)));

    assert_eq!(spec.data().expect("data"), data_before);
    assert_eq!(spec.meta(false).expect("meta"), meta_before);
    assert_eq!(fx.namespace.work_spec_names().expect("names"), vec!["spec"]);
}

/// Empty unit names and names with NUL are invalid input, and no unit appears.
pub fn bad_unit_names(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    for bad in ["", "\0", "a\0b"] {
        let result = spec.add_work_unit(bad, Data::new(), WorkUnitMeta::default());
        assert!(is_invalid(result), "{bad:?}");
    }
    assert!(unit_names(&spec).is_empty());
}

/// Empty or NUL-holding namespace and worker names are invalid input.
pub fn bad_namespace_and_worker_names(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    for bad in ["", "ns\0x"] {
        assert!(
            is_invalid(fx.coordinate.namespace(bad)),
            "namespace {bad:?}"
        );
        assert!(is_invalid(fx.namespace.worker(bad)), "worker {bad:?}");
    }
    let listed = fx.coordinate.namespaces().expect("namespaces");
    assert!(listed
        .iter()
        .all(|n| !n.name().is_empty() && !n.name().contains('\0')));
    assert!(fx.namespace.workers().expect("workers").is_empty());
}

/// NaN and infinite priorities are invalid input everywhere and change nothing.
pub fn non_finite_priorities(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let bad_values = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY];
    for bad in bad_values {
        let meta = WorkUnitMeta {
            priority: bad,
            not_before: None,
        };
        assert!(
            is_invalid(spec.add_work_unit("new", Data::new(), meta)),
            "{bad}"
        );
    }
    assert!(unit_names(&spec).is_empty());

    let good = WorkUnitMeta {
        priority: 2.0,
        not_before: Some(fx.clock.now() + chrono::Duration::seconds(30)),
    };
    let unit = spec.add_work_unit("unit", Data::new(), good).expect("add");
    let all = WorkUnitQuery::all();
    for bad in bad_values {
        assert!(is_invalid(unit.set_priority(bad)), "set_priority {bad}");
        let meta = WorkUnitMeta {
            priority: bad,
            not_before: None,
        };
        assert!(is_invalid(unit.set_meta(meta)), "set_meta {bad}");
        assert!(
            is_invalid(spec.set_work_unit_priorities(&all, bad)),
            "set {bad}"
        );
        assert!(
            is_invalid(spec.adjust_work_unit_priorities(&all, bad)),
            "adjust {bad}"
        );
    }
    assert_eq!(unit.meta().expect("meta"), good);
}

/// Leases and delays too long to add to a timestamp are invalid input and claim nothing.
pub fn absurd_durations(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let unit = fx.unit(&spec, "unit");
    let worker = fx.worker("worker");
    let forever = AttemptRequest {
        lifetime: Duration::MAX,
        ..AttemptRequest::default()
    };
    assert!(is_invalid(worker.request_attempts(&forever)));
    assert!(is_invalid(worker.make_attempt(unit.clone(), Duration::MAX)));
    assert_eq!(unit.status().expect("status"), WorkUnitStatus::Available);
    assert_eq!(unit.num_attempts().expect("num_attempts"), 0);
    assert!(worker.all_attempts().expect("attempts").is_empty());

    let attempt = worker
        .make_attempt(unit.clone(), Duration::from_secs(60))
        .expect("make_attempt");
    let expires = attempt.expiration_time().expect("expiration");
    assert!(is_invalid(attempt.renew(Duration::MAX, None)));
    assert!(is_invalid(attempt.retry(None, Duration::MAX)));
    assert_eq!(attempt.status().expect("status"), AttemptStatus::Pending);
    assert_eq!(attempt.expiration_time().expect("expiration"), expires);
    assert_eq!(unit.status().expect("status"), WorkUnitStatus::Pending);
    assert_eq!(unit.meta().expect("meta").not_before, None);
}

/// Names full of quotes, SQL, wildcards and unicode round-trip literally everywhere.
pub fn hostile_names_round_trip(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let names = [
        "it's",
        "\"double\"",
        "semi;colon",
        "'; DROP TABLE work_unit; --",
        "SELECT * FROM namespace WHERE 1=1",
        "100%",
        "under_score",
        "back\\slash",
        "$1 ?",
        " leading and trailing ",
        "tab\tnew\nline",
        "日本語",
        "naïve 🚀",
    ];
    let ns_name = format!("{} {}", crate::unique_name("hostile"), names[3]);
    let ns = fx.coordinate.namespace(&ns_name).expect("namespace");
    assert_eq!(ns.name(), ns_name);
    let listed = fx.coordinate.namespaces().expect("namespaces");
    assert!(listed.iter().any(|n| n.name() == ns_name));

    for name in names {
        let spec = ns
            .set_work_spec(definition(name, &[]))
            .expect("set_work_spec");
        assert_eq!(spec.name(), name);
        assert_eq!(ns.work_spec(name).expect("work_spec").name(), name);
        ns.worker(name).expect("worker");
    }
    let mut sorted: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    sorted.sort();
    assert_eq!(ns.work_spec_names().expect("names"), sorted);
    let workers: Vec<String> = ns
        .workers()
        .expect("workers")
        .iter()
        .map(|w| w.name().to_owned())
        .collect();
    assert_eq!(workers, sorted);

    let spec = ns.work_spec(names[0]).expect("work_spec");
    for name in names {
        spec.add_work_unit(name, Data::new(), WorkUnitMeta::default())
            .expect("add");
        let found = spec.work_unit(name).expect("work_unit");
        assert_eq!(found.name(), name);
        let selected = spec
            .work_units(&WorkUnitQuery::names([name]))
            .expect("query");
        assert_eq!(selected.len(), 1, "{name:?}");
        assert_eq!(selected[0].name(), name);
    }
    assert_eq!(unit_names(&spec), sorted);
    ns.destroy().expect("destroy");
}

/// SQL wildcard characters in names and queries match only themselves.
pub fn wildcards_match_literally(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("abc", &[]);
    for name in ["abc", "a%", "a_c", "a%c"] {
        fx.unit(&spec, name);
    }
    assert!(matches!(
        fx.namespace.work_spec("a%"),
        Err(Error::NoSuchWorkSpec { .. })
    ));
    assert!(matches!(
        fx.namespace.work_spec("a_c"),
        Err(Error::NoSuchWorkSpec { .. })
    ));
    assert!(matches!(
        spec.work_unit("a_"),
        Err(Error::NoSuchWorkUnit { .. })
    ));
    let selected = |names: &[&str]| -> Vec<String> {
        spec.work_units(&WorkUnitQuery::names(names.iter().copied()))
            .expect("query")
            .iter()
            .map(|u| u.name().to_owned())
            .collect()
    };
    assert_eq!(selected(&["a%"]), ["a%"]);
    assert_eq!(selected(&["a_c"]), ["a_c"]);
    assert!(selected(&["%"]).is_empty());
    assert_eq!(
        spec.delete_work_units(&WorkUnitQuery::names(["a%"]))
            .expect("delete"),
        1
    );
    assert_eq!(unit_names(&spec), ["a%c", "a_c", "abc"]);
}

/// Incompressible text of `len` ASCII characters.
fn varied_name(len: usize) -> String {
    let mut state: u32 = 12345;
    (0..len)
        .map(|_| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            char::from(b'!' + ((state >> 16) % 94) as u8)
        })
        .collect()
}

/// Names of exactly `MAX_NAME_BYTES` round-trip; one byte more is invalid input that leaves nothing behind.
pub fn long_names(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    // Varied characters, so that a store cannot compress them away.
    let long = varied_name(MAX_NAME_BYTES);
    let spec = fx.spec(&long, &[]);
    let found = fx.namespace.work_spec(&long).expect("work_spec");
    assert_eq!(found.name(), long);
    fx.unit(&spec, &long);
    assert_eq!(spec.work_unit(&long).expect("work_unit").name(), long);
    assert_eq!(fx.worker(&long).name(), long);
    assert_eq!(fx.namespace.workers().expect("workers")[0].name(), long);

    let longer = varied_name(MAX_NAME_BYTES + 1);
    let too_long = |result: Result<(), Error>| {
        assert!(
            matches!(result, Err(Error::InvalidInput { .. })),
            "{result:?}"
        )
    };
    too_long(
        fx.namespace
            .set_work_spec(definition(&longer, &[]))
            .map(drop),
    );
    too_long(
        spec.add_work_unit(&longer, Data::new(), WorkUnitMeta::default())
            .map(drop),
    );
    too_long(fx.namespace.worker(&longer).map(drop));
    too_long(fx.coordinate.namespace(&longer).map(drop));
    assert_eq!(
        fx.namespace.work_spec_names().expect("names"),
        [long.as_str()]
    );
    assert_eq!(unit_names(&spec), [long.as_str()]);
    assert_eq!(fx.namespace.workers().expect("workers").len(), 1);
}
