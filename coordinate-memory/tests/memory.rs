//! Behaviour particular to the in-memory backend: how coordinates share
//! (or do not share) state, a clock that goes backwards, and the data size
//! setting.

use std::sync::Arc;
use std::time::Duration;

use coordinate_api::{
    AttemptRequest, Coordinate, Data, Error, MockClock, Value, WorkSpec, WorkUnitMeta,
    WorkUnitQuery, WorkUnitStatus,
};
use coordinate_memory::MemoryCoordinate;

fn spec(coordinate: &dyn Coordinate, namespace: &str) -> Arc<dyn WorkSpec> {
    let mut definition = Data::new();
    definition.insert("name".into(), Value::Text("spec".into()));
    coordinate
        .namespace(namespace)
        .expect("namespace")
        .set_work_spec(definition)
        .expect("set_work_spec")
}

#[test]
fn clones_share_state_and_separate_coordinates_do_not() {
    let first = MemoryCoordinate::default();
    let clone = first.clone();
    let other = MemoryCoordinate::new();
    spec(&first, "ns")
        .add_work_unit("unit", Data::new(), WorkUnitMeta::default())
        .expect("add");

    let through_clone = clone.namespace("ns").expect("namespace");
    assert_eq!(through_clone.work_spec_names().expect("names"), ["spec"]);
    assert!(other
        .namespace("ns")
        .expect("namespace")
        .work_spec_names()
        .expect("names")
        .is_empty());
    assert!(format!("{first:?}").contains("MemoryCoordinate"));
}

#[test]
fn units_of_another_coordinate_are_refused() {
    let first = MemoryCoordinate::new();
    let second = MemoryCoordinate::new();
    let unit = spec(&first, "ns")
        .add_work_unit("unit", Data::new(), WorkUnitMeta::default())
        .expect("add");
    let worker = second
        .namespace("ns")
        .expect("namespace")
        .worker("w")
        .expect("worker");
    assert!(matches!(
        worker.make_attempt(unit.clone(), Duration::from_secs(60)),
        Err(Error::InvalidInput { .. })
    ));
    assert_eq!(unit.num_attempts().expect("num_attempts"), 0);
}

#[test]
fn a_clock_set_back_delays_units_again() {
    let clock = Arc::new(MockClock::default());
    let start = coordinate_api::Clock::now(clock.as_ref());
    let coordinate = MemoryCoordinate::with_clock(clock.clone());
    let spec = spec(&coordinate, "ns");
    let meta = WorkUnitMeta {
        priority: 0.0,
        not_before: Some(start + chrono::Duration::seconds(10)),
    };
    let unit = spec.add_work_unit("later", Data::new(), meta).expect("add");
    let worker = coordinate
        .namespace("ns")
        .expect("namespace")
        .worker("w")
        .expect("worker");
    let delayed = WorkUnitQuery::statuses([WorkUnitStatus::Delayed]);

    clock.advance(Duration::from_secs(10));
    assert_eq!(unit.status().expect("status"), WorkUnitStatus::Available);
    assert!(spec.work_units(&delayed).expect("query").is_empty());

    clock.set(start);
    assert_eq!(unit.status().expect("status"), WorkUnitStatus::Delayed);
    assert_eq!(spec.work_units(&delayed).expect("query").len(), 1);
    let request = AttemptRequest::default();
    assert!(worker
        .request_attempts(&request)
        .expect("request")
        .is_empty());

    clock.advance(Duration::from_secs(11));
    let attempts = worker.request_attempts(&request).expect("request");
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].work_unit().name(), "later");
}

#[test]
fn many_threads_never_share_a_unit() {
    let coordinate = MemoryCoordinate::new();
    let spec = spec(&coordinate, "ns");
    for i in 0..2_000 {
        spec.add_work_unit(&format!("u{i:05}"), Data::new(), WorkUnitMeta::default())
            .expect("add");
    }
    let claimed: Vec<Vec<String>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..4)
            .map(|w| {
                let coordinate = coordinate.clone();
                scope.spawn(move || {
                    let worker = coordinate
                        .namespace("ns")
                        .expect("namespace")
                        .worker(&format!("w{w}"))
                        .expect("worker");
                    let request = AttemptRequest {
                        number_of_work_units: 7,
                        ..AttemptRequest::default()
                    };
                    let mut names = Vec::new();
                    loop {
                        let attempts = worker.request_attempts(&request).expect("request");
                        if attempts.is_empty() {
                            return names;
                        }
                        for attempt in attempts {
                            names.push(attempt.work_unit().name().to_owned());
                            attempt.finish(None).expect("finish");
                        }
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("thread"))
            .collect()
    });
    let mut all: Vec<String> = claimed.into_iter().flatten().collect();
    let total = all.len();
    all.sort();
    all.dedup();
    assert_eq!((total, all.len()), (2_000, 2_000));
}

#[test]
fn the_data_size_limit_is_configurable() {
    let coordinate = MemoryCoordinate::new().with_max_data_bytes(100).unwrap();
    coordinate_conformance::data_limits::configured_size_limit_applies(&coordinate, 100);
    let zero = MemoryCoordinate::new().with_max_data_bytes(0);
    assert!(matches!(zero, Err(Error::InvalidInput { .. })), "{zero:?}");
}
