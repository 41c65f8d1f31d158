//! How much data a call may hand in: nesting depth and encoded size.
//!
//! Both limits apply at every entry point that takes data, before anything
//! is written, so refused data leaves the store as it was. The size limit
//! is the backend's default ([`DEFAULT_MAX_DATA_BYTES`]); each backend's
//! own tests check that configuring it takes effect.

use std::time::Duration;

use coordinate_api::data::{encode, DEFAULT_MAX_DATA_BYTES, MAX_DEPTH};
use coordinate_api::{
    AttemptStatus, Clock, Data, Error, NewWorkUnit, Value, WorkUnitMeta, WorkUnitStatus,
};

use crate::attempt::{data, request_one, text};
use crate::bad_input::unit_names as spec_unit_names;
use crate::{definition, Backend, Fixture};

/// Data under `key` whose CBOR encoding is exactly `size` bytes.
fn data_of_size(key: &str, size: usize) -> Data {
    let mut filler = data(&[(key, Value::Bytes(vec![0; size]))]);
    let over = encode(&filler).expect("encode").len() - size;
    filler.insert(key.to_owned(), Value::Bytes(vec![0; size - over]));
    assert_eq!(encode(&filler).expect("encode").len(), size);
    filler
}

/// Asserts a call was refused as invalid input.
fn assert_refused<T>(what: &str, result: Result<T, Error>) {
    match result {
        Err(Error::InvalidInput { .. }) => {}
        Err(other) => panic!("{what}: expected InvalidInput, got {other:?}"),
        Ok(_) => panic!("{what}: expected InvalidInput, the call succeeded"),
    }
}

/// Data one byte over the default size limit is refused by every call that takes data, and nothing changes.
pub fn oversized_data_is_refused_everywhere(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let unit = fx.unit(&spec, "unit");
    let worker = fx.worker("worker");
    let big = data_of_size("blob", DEFAULT_MAX_DATA_BYTES + 1);

    let mut big_definition = big.clone();
    big_definition.insert("name".into(), text("spec"));
    assert_refused(
        "set_work_spec",
        fx.namespace.set_work_spec(big_definition.clone()),
    );
    assert_refused("set_data", spec.set_data(big_definition));
    assert_eq!(spec.data().expect("spec data"), definition("spec", &[]));

    assert_refused(
        "add_work_unit",
        spec.add_work_unit("big", big.clone(), WorkUnitMeta::default()),
    );
    let batch = vec![
        NewWorkUnit {
            name: "small".into(),
            data: Data::new(),
            meta: WorkUnitMeta::default(),
        },
        NewWorkUnit {
            name: "big".into(),
            data: big.clone(),
            meta: WorkUnitMeta::default(),
        },
    ];
    assert_refused("add_work_units", spec.add_work_units(batch));
    assert_eq!(
        spec_unit_names(&spec),
        ["unit"],
        "no unit of a refused batch was written"
    );

    let now = fx.clock.now();
    assert_refused(
        "worker update",
        worker.update(big.clone(), now, now + chrono::Duration::minutes(5), "m"),
    );
    assert_eq!(worker.data().expect("worker data"), Data::new());

    let attempt = request_one(worker.as_ref());
    assert_refused(
        "renew",
        attempt.renew(Duration::from_secs(60), Some(big.clone())),
    );
    assert_refused("expire", attempt.expire(Some(big.clone())));
    assert_refused("finish", attempt.finish(Some(big.clone())));
    assert_refused("fail", attempt.fail(Some(big.clone())));
    assert_refused("retry", attempt.retry(Some(big), Duration::from_secs(0)));
    assert_eq!(attempt.status().expect("status"), AttemptStatus::Pending);
    assert_eq!(attempt.data().expect("attempt data"), Data::new());
    assert_eq!(unit.status().expect("unit status"), WorkUnitStatus::Pending);
    attempt.finish(None).expect("the attempt still finishes");
}

/// Data whose encoding is exactly the default size limit is accepted and comes back intact.
pub fn data_at_the_size_limit_is_kept(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let largest = data_of_size("blob", DEFAULT_MAX_DATA_BYTES);
    let unit = spec
        .add_work_unit("largest", largest.clone(), WorkUnitMeta::default())
        .expect("data at the limit is accepted");
    assert!(unit.data().expect("data") == largest, "data changed");
}

/// Data nested deeper than the codec allows is refused everywhere it could enter, and nothing is written.
pub fn too_deep_data_is_refused(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let worker = fx.worker("worker");
    let mut deep = Value::Null;
    for _ in 0..(MAX_DEPTH + 50) {
        deep = Value::Array(vec![deep]);
    }
    let deep = data(&[("deep", deep)]);
    assert_refused(
        "add_work_unit",
        spec.add_work_unit("unit", deep.clone(), WorkUnitMeta::default()),
    );
    let mut deep_definition = deep.clone();
    deep_definition.insert("name".into(), text("deep"));
    assert_refused("set_work_spec", fx.namespace.set_work_spec(deep_definition));
    assert_eq!(fx.namespace.work_spec_names().expect("names"), ["spec"]);
    fx.unit(&spec, "unit");
    let attempt = request_one(worker.as_ref());
    assert_refused("finish", attempt.finish(Some(deep)));
    assert_eq!(attempt.status().expect("status"), AttemptStatus::Pending);
}

/// Checks a coordinate configured with a data size limit of `max_bytes`
/// (at least 64): data encoding to exactly `max_bytes` is kept, one byte
/// more is refused. Each backend's tests call this with a coordinate built
/// through its own setting, since [`Backend`] makes default ones.
pub fn configured_size_limit_applies(
    coordinate: &dyn coordinate_api::Coordinate,
    max_bytes: usize,
) {
    let namespace = coordinate
        .namespace(&crate::unique_name("configured-limit"))
        .expect("namespace");
    let spec = namespace
        .set_work_spec(definition("spec", &[]))
        .expect("spec");
    spec.add_work_unit(
        "fits",
        data_of_size("k", max_bytes),
        WorkUnitMeta::default(),
    )
    .expect("data at the configured limit is accepted");
    assert_refused(
        "add_work_unit over the configured limit",
        spec.add_work_unit(
            "over",
            data_of_size("k", max_bytes + 1),
            WorkUnitMeta::default(),
        ),
    );
    let mut big_definition = data_of_size("k", max_bytes + 1);
    big_definition.insert("name".into(), text("spec"));
    assert_refused(
        "set_data over the configured limit",
        spec.set_data(big_definition),
    );
    assert_eq!(spec_unit_names(&spec), ["fits"]);
    namespace.destroy().expect("destroy");
}
