//! What each way a handler can end does to its unit.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use coordinate_api::definition::WorkSpecDefinition;
use coordinate_api::runtime::{Job, JobError, JobOutcome};
use coordinate_api::{Data, Error, Value, WorkUnitStatus};
use serde::{Deserialize, Serialize};

use crate::common::{add_units, count, namespace, quick, unit_data, wait_until};

fn traceback(data: &Data) -> String {
    match data.get("traceback") {
        Some(Value::Text(text)) => text.clone(),
        other => panic!("no traceback text in the data: {other:?}"),
    }
}

#[test]
fn finish_fail_and_retry_reach_the_units() {
    let ns = namespace(&[WorkSpecDefinition::new("s")]);
    let spec = ns.work_spec("s").unwrap();
    for name in ["finish", "fail", "later"] {
        spec.add_work_unit(name, Data::new(), Default::default())
            .unwrap();
    }
    let runtime = quick(ns.clone())
        .handler("s", |job: &Job| {
            Ok(match job.work_unit_name() {
                "finish" => JobOutcome::finish(),
                "fail" => JobOutcome::fail("no such page"),
                _ => JobOutcome::retry_after(Duration::from_secs(3600)),
            })
        })
        .start()
        .unwrap();
    wait_until("all three are done", || {
        let stats = runtime.stats();
        stats.finished + stats.failed + stats.retried == 3
    });
    runtime.shutdown();
    let report = runtime.wait();
    assert_eq!(
        (
            report.totals.finished,
            report.totals.failed,
            report.totals.retried
        ),
        (1, 1, 1)
    );
    assert_eq!(count(ns.as_ref(), "s", WorkUnitStatus::Finished), 1);
    assert_eq!(count(ns.as_ref(), "s", WorkUnitStatus::Failed), 1);
    assert_eq!(count(ns.as_ref(), "s", WorkUnitStatus::Delayed), 1);
    assert_eq!(
        traceback(&unit_data(ns.as_ref(), "s", "fail")),
        "no such page"
    );
}

#[test]
fn errors_are_retried_until_the_maximum_number_of_attempts() {
    let ns = namespace(&[WorkSpecDefinition::new("s")]);
    add_units(ns.as_ref(), "s", "u", 1);
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let runtime = quick(ns.clone())
        .max_attempts(3)
        .handler("s", move |_: &Job| -> Result<JobOutcome, JobError> {
            seen.fetch_add(1, Ordering::SeqCst);
            Err("upstream timed out".into())
        })
        .start()
        .unwrap();
    wait_until("the unit failed", || runtime.stats().failed == 1);
    runtime.shutdown();
    let report = runtime.wait();
    assert_eq!(calls.load(Ordering::SeqCst), 3, "tried once per attempt");
    assert_eq!((report.totals.retried, report.totals.failed), (2, 1));
    let text = traceback(&unit_data(ns.as_ref(), "s", "u0"));
    assert!(text.starts_with("upstream timed out"), "{text}");
    assert!(text.contains("attempt 3 of at most 3"), "{text}");
}

#[test]
fn a_retried_error_waits_out_its_backoff() {
    let ns = namespace(&[WorkSpecDefinition::new("s")]);
    add_units(ns.as_ref(), "s", "u", 1);
    let runtime = quick(ns.clone())
        .backoff(coordinate_api::runtime::Backoff {
            base: Duration::from_secs(3600),
            cap: Duration::from_secs(3600),
        })
        .handler("s", |_: &Job| -> Result<JobOutcome, JobError> {
            Err("broken".into())
        })
        .start()
        .unwrap();
    wait_until("the unit was retried", || runtime.stats().retried == 1);
    runtime.shutdown();
    let report = runtime.wait();
    // Full jitter could draw a delay near zero; an hour's ceiling makes
    // that vanishingly unlikely, and one attempt proves the wait.
    assert_eq!(report.totals.retried, 1);
    assert_eq!(count(ns.as_ref(), "s", WorkUnitStatus::Delayed), 1);
}

#[test]
fn a_panic_is_caught_and_recorded_and_the_runtime_goes_on() {
    let ns = namespace(&[WorkSpecDefinition::new("s")]);
    add_units(ns.as_ref(), "s", "u", 10);
    let runtime = quick(ns.clone())
        .concurrency(2)
        .max_attempts(1)
        .handler("s", |job: &Job| {
            if job.work_unit_name() == "u3" {
                panic!("the parser choked on {}", job.work_unit_name());
            }
            Ok(JobOutcome::finish())
        })
        .start()
        .unwrap();
    wait_until("every unit is done", || {
        let stats = runtime.stats();
        stats.finished + stats.failed == 10
    });
    runtime.shutdown();
    let report = runtime.wait();
    assert_eq!((report.totals.finished, report.totals.failed), (9, 1));
    assert_eq!(report.totals.panicked, 1);
    let text = traceback(&unit_data(ns.as_ref(), "s", "u3"));
    assert!(
        text.contains("handler panicked: the parser choked on u3"),
        "{text}"
    );
}

#[derive(Serialize, Deserialize)]
struct Page {
    url: String,
}

#[test]
fn typed_data_and_chained_output() {
    let ns = namespace(&[
        WorkSpecDefinition::new("fetch").then("parse"),
        WorkSpecDefinition::new("parse"),
    ]);
    let fetch = ns.work_spec("fetch").unwrap();
    let page = Page {
        url: "https://example.com/".into(),
    };
    let page = coordinate_api::typed::to_data(&page).unwrap();
    fetch
        .add_work_unit("good", page, Default::default())
        .unwrap();
    let mut bad = Data::new();
    bad.insert("url".into(), Value::Integer(5));
    fetch.add_work_unit("bad", bad, Default::default()).unwrap();

    let runtime = quick(ns.clone())
        .max_attempts(1)
        .handler("fetch", |job: &Job| {
            let page: Page = job.data_as()?;
            let mut output = Data::new();
            output.insert(
                "output".into(),
                Value::Array(vec![Value::Text(format!("parsed {}", page.url))]),
            );
            Ok(JobOutcome::finish_with(output))
        })
        .start()
        .unwrap();
    wait_until("both are done", || {
        let stats = runtime.stats();
        stats.finished + stats.failed == 2
    });
    runtime.shutdown();
    runtime.wait();
    let parse = ns.work_spec("parse").unwrap();
    assert!(parse.work_unit("parsed https://example.com/").is_ok());
    let text = traceback(&unit_data(ns.as_ref(), "fetch", "bad"));
    assert!(
        text.contains("typed data"),
        "the shape error names itself: {text}"
    );
}

#[test]
fn only_registered_specs_and_offered_runtimes_are_claimed() {
    let ns = namespace(&[
        WorkSpecDefinition::new("mine").runtime("rust"),
        WorkSpecDefinition::new("python").runtime("python"),
        WorkSpecDefinition::new("unhandled"),
    ]);
    for spec in ["mine", "python", "unhandled"] {
        add_units(ns.as_ref(), spec, "u", 3);
    }
    let runtime = quick(ns.clone())
        .runtimes(["rust"])
        .handler("mine", |_: &Job| Ok(JobOutcome::finish()))
        .handler("python", |_: &Job| Ok(JobOutcome::finish()))
        .start()
        .unwrap();
    wait_until("mine is done", || runtime.stats().finished == 3);
    // A few more polls find nothing else to take.
    std::thread::sleep(Duration::from_millis(200));
    runtime.shutdown();
    let report = runtime.wait();
    assert_eq!(report.totals.claimed, 3);
    assert_eq!(count(ns.as_ref(), "python", WorkUnitStatus::Available), 3);
    assert_eq!(
        count(ns.as_ref(), "unhandled", WorkUnitStatus::Available),
        3
    );
}

#[test]
fn bad_settings_are_refused_before_anything_starts() {
    let ns = namespace(&[WorkSpecDefinition::new("s")]);
    let refuse =
        |builder: coordinate_api::runtime::RuntimeBuilder, what: &str| match builder.start() {
            Err(Error::InvalidInput { what: got, .. }) => assert_eq!(got, what),
            Err(other) => panic!("expected invalid {what}, got {other}"),
            Ok(_) => panic!("expected invalid {what}, but it started"),
        };
    let ok = |_: &Job| Ok(JobOutcome::finish());
    refuse(quick(ns.clone()), "runtime handlers");
    refuse(
        quick(ns.clone()).handler("s", ok).concurrency(0),
        "runtime concurrency",
    );
    refuse(
        quick(ns.clone())
            .handler("s", ok)
            .lease(Duration::from_millis(10)),
        "runtime lease",
    );
    refuse(
        quick(ns.clone()).handler("s", ok).max_attempts(0),
        "runtime max attempts",
    );
    assert!(
        ns.workers().unwrap().is_empty(),
        "no worker record was made"
    );
}
