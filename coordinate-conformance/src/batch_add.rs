//! `WorkSpec::add_work_units`: adding many units at once.

use std::sync::Arc;
use std::time::Duration;

use coordinate_api::{
    Clock, Data, Error, NewWorkUnit, Value, WorkSpec, WorkUnitMeta, WorkUnitQuery, WorkUnitStatus,
};

use crate::{Backend, Fixture};

fn unit(
    name: &str,
    tag: i64,
    priority: f64,
    delay_seconds: Option<i64>,
    fx: &Fixture,
) -> NewWorkUnit {
    let mut data = Data::new();
    data.insert("tag".into(), Value::Integer(tag.into()));
    NewWorkUnit {
        name: name.to_owned(),
        data,
        meta: WorkUnitMeta {
            priority,
            not_before: delay_seconds.map(|s| fx.clock.now() + chrono::Duration::seconds(s)),
        },
    }
}

/// What a spec's units look like: name, data, priority, not-before,
/// status and whether an attempt is active.
fn snapshot(spec: &Arc<dyn WorkSpec>) -> Vec<(String, Data, WorkUnitMeta, WorkUnitStatus, bool)> {
    spec.work_units(&WorkUnitQuery::all())
        .expect("work_units")
        .into_iter()
        .map(|u| {
            (
                u.name().to_owned(),
                u.data().expect("data"),
                u.meta().expect("meta"),
                u.status().expect("status"),
                u.active_attempt().expect("active_attempt").is_some(),
            )
        })
        .collect()
}

/// Prepares `spec` with units "a" (available) and "b" (pending).
fn prepare(fx: &Fixture, spec: &Arc<dyn WorkSpec>) {
    fx.unit(spec, "a");
    let b = fx.unit(spec, "b");
    fx.worker("w")
        .make_attempt(b, Duration::from_secs(60))
        .expect("make_attempt");
}

/// A batch of new, existing and repeated names leaves the same units as adding them one by one.
pub fn batch_add_matches_repeated_add(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let one_by_one = fx.spec("one_by_one", &[]);
    let batched = fx.spec("batched", &[]);
    prepare(&fx, &one_by_one);
    prepare(&fx, &batched);
    let batch = vec![
        unit("b", 1, 5.0, None, &fx),
        unit("c", 2, 0.0, Some(3600), &fx),
        unit("a", 3, -1.0, None, &fx),
        unit("c", 4, 2.0, None, &fx),
        unit("d", 5, 0.0, None, &fx),
    ];
    for u in batch.clone() {
        one_by_one
            .add_work_unit(&u.name, u.data, u.meta)
            .expect("add_work_unit");
    }
    assert_eq!(batched.add_work_units(batch).expect("add_work_units"), 4);
    let expected = snapshot(&one_by_one);
    assert_eq!(snapshot(&batched), expected);
    let names: Vec<&str> = expected.iter().map(|u| u.0.as_str()).collect();
    assert_eq!(names, ["a", "b", "c", "d"]);
    assert!(
        expected.iter().all(|u| !u.4),
        "no unit keeps an active attempt"
    );
    assert_eq!(expected[2].2.priority, 2.0, "the later \"c\" wins");
    assert_eq!(batched.add_work_units(Vec::new()).expect("empty batch"), 0);
}

/// A batch holding one invalid entry is rejected whole; a deleted spec reports gone.
pub fn batch_add_rejects_whole_batch(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    let batch = vec![unit("fine", 1, 0.0, None, &fx), unit("", 2, 0.0, None, &fx)];
    let result = spec.add_work_units(batch);
    assert!(
        matches!(result, Err(Error::InvalidInput { .. })),
        "{result:?}"
    );
    let batch = vec![unit("fine", 1, f64::NAN, None, &fx)];
    let result = spec.add_work_units(batch);
    assert!(
        matches!(result, Err(Error::InvalidInput { .. })),
        "{result:?}"
    );
    assert!(spec
        .work_units(&WorkUnitQuery::all())
        .expect("units")
        .is_empty());
    fx.namespace
        .destroy_work_spec("spec")
        .expect("destroy_work_spec");
    let result = spec.add_work_units(vec![unit("late", 1, 0.0, None, &fx)]);
    assert!(matches!(result, Err(Error::Gone { .. })), "{result:?}");
}
