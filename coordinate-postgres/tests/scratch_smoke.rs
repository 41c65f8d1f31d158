mod common;
use chrono::TimeZone;
use common::{data, spec, unique};
use coordinate_api::*;
use coordinate_postgres::test_support::database_url;
use coordinate_postgres::PostgresCoordinate;
use std::sync::Arc;
use std::time::Duration;

fn setup() -> (Arc<MockClock>, Arc<dyn Coordinate>, Arc<dyn Namespace>) {
    let clock = Arc::new(MockClock::default());
    let c: Arc<dyn Coordinate> =
        Arc::new(PostgresCoordinate::new_with_clock(&database_url(), clock.clone()).unwrap());
    let ns = c.namespace(&unique("smoke")).unwrap();
    (clock, c, ns)
}

#[test]
fn expiration_retry_delay_max_retries() {
    let (clock, _c, ns) = setup();
    let s = ns
        .set_work_spec(spec("spec", &[("max_retries", Value::Integer(2))]))
        .unwrap();
    let u = s
        .add_work_unit("unit", Data::new(), WorkUnitMeta::default())
        .unwrap();
    let w = ns.worker("w").unwrap();
    let a = w.request_attempts(&AttemptRequest::default()).unwrap();
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].status().unwrap(), AttemptStatus::Pending);
    assert!(w
        .request_attempts(&AttemptRequest::default())
        .unwrap()
        .is_empty());
    clock.advance(Duration::from_secs(20 * 60));
    assert_eq!(u.status().unwrap(), WorkUnitStatus::Available);
    assert_eq!(a[0].status().unwrap(), AttemptStatus::Expired);
    assert!(a[0].end_time().unwrap().is_some());
    let m = s.meta(true).unwrap();
    assert_eq!((m.available_count, m.pending_count), (1, 0));
    let a2 = w.request_attempts(&AttemptRequest::default()).unwrap();
    assert_eq!(a2.len(), 1);
    assert!(matches!(
        a[0].renew(Duration::from_secs(10), None),
        Err(Error::LostLease)
    ));
    a2[0].retry(None, Duration::from_secs(90)).unwrap();
    clock.advance(Duration::from_secs(60));
    assert_eq!(u.status().unwrap(), WorkUnitStatus::Delayed);
    assert!(w
        .request_attempts(&AttemptRequest::default())
        .unwrap()
        .is_empty());
    clock.advance(Duration::from_secs(60));
    assert_eq!(u.status().unwrap(), WorkUnitStatus::Available);
    // third attempt: 2 previous >= max_retries 2 -> failed
    assert!(w
        .request_attempts(&AttemptRequest::default())
        .unwrap()
        .is_empty());
    assert_eq!(u.status().unwrap(), WorkUnitStatus::Failed);
    assert_eq!(
        u.data().unwrap()["traceback"],
        Value::Text("too many retries".into())
    );
    assert_eq!(u.num_attempts().unwrap(), 3);
    assert_eq!(w.active_attempts().unwrap().len(), 0);
    assert_eq!(w.all_attempts().unwrap().len(), 3);
    ns.destroy().unwrap();
}

#[test]
fn max_retries_multi_batch() {
    let (clock, _c, ns) = setup();
    let s = ns
        .set_work_spec(spec(
            "spec",
            &[
                ("max_getwork", Value::Integer(2)),
                ("max_retries", Value::Integer(1)),
            ],
        ))
        .unwrap();
    for n in ["a", "b", "c", "d"] {
        s.add_work_unit(n, Data::new(), WorkUnitMeta::default())
            .unwrap();
    }
    let w = ns.worker("w").unwrap();
    let req = AttemptRequest {
        number_of_work_units: 10,
        ..Default::default()
    };
    let a = w.request_attempts(&req).unwrap();
    assert_eq!(
        a.iter()
            .map(|a| a.work_unit().name().to_owned())
            .collect::<Vec<_>>(),
        ["a", "b"]
    );
    clock.advance(Duration::from_secs(3600));
    let a = w.request_attempts(&req).unwrap();
    assert_eq!(
        a.iter()
            .map(|a| a.work_unit().name().to_owned())
            .collect::<Vec<_>>(),
        ["c", "d"]
    );
    ns.destroy().unwrap();
}

#[test]
fn chaining_and_continuous() {
    let (clock, _c, ns) = setup();
    let one = ns
        .set_work_spec(spec("one", &[("then", Value::Text("two".into()))]))
        .unwrap();
    let two = ns
        .set_work_spec(spec("two", &[("disabled", Value::Bool(true))]))
        .unwrap();
    one.add_work_unit("a", Data::new(), WorkUnitMeta::default())
        .unwrap();
    let w = ns.worker("w").unwrap();
    let a = w.request_attempts(&AttemptRequest::default()).unwrap();
    let mut d = Data::new();
    d.insert(
        "output".into(),
        Value::Array(vec![Value::Text("x".into()), Value::Text("y".into())]),
    );
    a[0].finish(Some(d)).unwrap();
    let names: Vec<String> = two
        .work_units(&WorkUnitQuery::all())
        .unwrap()
        .iter()
        .map(|u| u.name().to_owned())
        .collect();
    assert_eq!(names, ["x", "y"]);
    let c = ns
        .set_work_spec(spec(
            "cont",
            &[
                ("continuous", Value::Bool(true)),
                ("interval", Value::Integer(60)),
            ],
        ))
        .unwrap();
    let a = w
        .request_attempts(&AttemptRequest {
            work_specs: vec!["cont".into()],
            ..Default::default()
        })
        .unwrap();
    assert_eq!(a.len(), 1);
    let t = MockClock::default().now();
    assert_eq!(a[0].work_unit().name(), format!("{}.000", t.timestamp()));
    a[0].finish(None).unwrap();
    assert!(w
        .request_attempts(&AttemptRequest {
            work_specs: vec!["cont".into()],
            ..Default::default()
        })
        .unwrap()
        .is_empty());
    clock.advance(Duration::from_secs(61));
    assert_eq!(
        w.request_attempts(&AttemptRequest {
            work_specs: vec!["cont".into()],
            ..Default::default()
        })
        .unwrap()
        .len(),
        1
    );
    let m = c.meta(false).unwrap();
    assert!(m.next_continuous.is_some());
    assert_eq!(m.interval, Duration::from_secs(60));
    let _ = chrono::Utc.timestamp_opt(0, 0);
    ns.destroy().unwrap();
}

#[test]
fn queries_and_workers() {
    let (_clock, _c, ns) = setup();
    let s = ns.set_work_spec(spec("s", &[])).unwrap();
    for n in ["a", "b", "c", "d", "e"] {
        s.add_work_unit(
            n,
            data("k", n),
            WorkUnitMeta {
                priority: if n == "c" { 5.0 } else { 0.0 },
                not_before: None,
            },
        )
        .unwrap();
    }
    let w = ns.worker("w").unwrap();
    let a = w.request_attempts(&AttemptRequest::default()).unwrap();
    assert_eq!(a[0].work_unit().name(), "c");
    let q = WorkUnitQuery {
        statuses: vec![WorkUnitStatus::Available],
        previous_name: Some("a".into()),
        limit: Some(2),
        ..Default::default()
    };
    let names: Vec<String> = s
        .work_units(&q)
        .unwrap()
        .iter()
        .map(|u| u.name().to_owned())
        .collect();
    assert_eq!(names, ["b", "d"]);
    let counts = s.count_work_unit_status().unwrap();
    assert_eq!(counts[&WorkUnitStatus::Available], 4);
    assert_eq!(counts[&WorkUnitStatus::Pending], 1);
    s.set_work_unit_priorities(&WorkUnitQuery::names(["e"]), 10.0)
        .unwrap();
    s.adjust_work_unit_priorities(&WorkUnitQuery::names(["e"]), 1.5)
        .unwrap();
    assert_eq!(s.work_unit("e").unwrap().priority().unwrap(), 11.5);
    assert_eq!(
        s.delete_work_units(&WorkUnitQuery::statuses([WorkUnitStatus::Available]))
            .unwrap(),
        4
    );
    let child = ns.worker("child").unwrap();
    child.set_parent(Some(w.clone())).unwrap();
    assert_eq!(child.parent().unwrap().unwrap().name(), "w");
    assert_eq!(w.children().unwrap().len(), 1);
    let u = s.work_unit("c").unwrap();
    let ca = child
        .make_attempt(u.clone(), Duration::from_secs(30))
        .unwrap();
    assert_eq!(w.child_attempts().unwrap().len(), 1);
    assert_eq!(
        u.active_attempt().unwrap().unwrap().worker().name(),
        "child"
    );
    ca.fail(Some(data("why", "x"))).unwrap();
    assert_eq!(u.status().unwrap(), WorkUnitStatus::Failed);
    assert_eq!(u.data().unwrap(), data("why", "x"));
    let summary = ns.summarize().unwrap();
    assert_eq!(summary.len(), 1);
    w.update(
        data("x", "y"),
        chrono::Utc::now(),
        chrono::Utc::now(),
        "run",
    )
    .unwrap();
    assert_eq!(w.mode().unwrap(), "run");
    ns.destroy().unwrap();
}
