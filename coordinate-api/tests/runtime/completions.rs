//! Results: batched, drained at a stop, retried after a failed send, or
//! sent one at a time.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use coordinate_api::completion::{Completion, Outcome};
use coordinate_api::definition::WorkSpecDefinition;
use coordinate_api::runtime::{CompletionMode, Job, JobOutcome};
use coordinate_api::WorkUnitStatus;

use crate::common::{add_units, count, namespace, quick, wait_until, Flaky};

#[test]
fn results_are_sent_in_batches() {
    let ns = namespace(&[WorkSpecDefinition::new("s")]);
    add_units(ns.as_ref(), "s", "u", 200);
    let flaky = Flaky::new(ns.clone());
    let runtime = quick(flaky.clone())
        .concurrency(4)
        .prefetch(50)
        .completion(CompletionMode::Batched {
            size: 50,
            delay: Duration::from_millis(50),
        })
        .handler("s", |_: &Job| Ok(JobOutcome::finish()))
        .start()
        .unwrap();
    wait_until("every unit finished", || runtime.stats().finished == 200);
    runtime.shutdown();
    runtime.wait();
    let batches = flaky.batches.lock().unwrap().clone();
    assert_eq!(batches.iter().sum::<usize>(), 200);
    assert!(batches.iter().all(|size| *size <= 50), "{batches:?}");
    assert!(
        batches.len() <= 40,
        "200 results in {} sends: {batches:?}",
        batches.len()
    );
    assert_eq!(count(ns.as_ref(), "s", WorkUnitStatus::Finished), 200);
}

#[test]
fn a_stop_sends_the_results_still_waiting() {
    let ns = namespace(&[WorkSpecDefinition::new("s")]);
    add_units(ns.as_ref(), "s", "u", 5);
    let runtime = quick(ns.clone())
        .completion(CompletionMode::Batched {
            size: 1000,
            delay: Duration::from_secs(3600),
        })
        .handler("s", |_: &Job| Ok(JobOutcome::finish()))
        .start()
        .unwrap();
    wait_until("every result waits", || runtime.stats().backlog == 5);
    assert_eq!(count(ns.as_ref(), "s", WorkUnitStatus::Finished), 0);
    runtime.shutdown();
    let report = runtime.wait();
    assert_eq!(report.totals.finished, 5);
    assert_eq!(count(ns.as_ref(), "s", WorkUnitStatus::Finished), 5);
}

#[test]
fn a_failed_send_is_tried_again_and_loses_nothing() {
    let ns = namespace(&[WorkSpecDefinition::new("s")]);
    add_units(ns.as_ref(), "s", "u", 20);
    let flaky = Flaky::new(ns.clone());
    flaky.fail_completions.store(3, Ordering::SeqCst);
    let runtime = quick(flaky.clone())
        .handler("s", |_: &Job| Ok(JobOutcome::finish()))
        .start()
        .unwrap();
    wait_until("every unit finished", || runtime.stats().finished == 20);
    runtime.shutdown();
    let report = runtime.wait();
    assert_eq!(
        flaky.fail_completions.load(Ordering::SeqCst),
        0,
        "the failures happened"
    );
    assert_eq!((report.totals.finished, report.totals.refused), (20, 0));
    assert_eq!(count(ns.as_ref(), "s", WorkUnitStatus::Finished), 20);
}

#[test]
fn immediate_mode_completes_each_result_itself() {
    let ns = namespace(&[WorkSpecDefinition::new("s")]);
    add_units(ns.as_ref(), "s", "u", 20);
    let flaky = Flaky::new(ns.clone());
    let runtime = quick(flaky.clone())
        .completion(CompletionMode::Immediate)
        .handler("s", |_: &Job| Ok(JobOutcome::finish()))
        .start()
        .unwrap();
    wait_until("every unit finished", || runtime.stats().finished == 20);
    runtime.shutdown();
    runtime.wait();
    assert!(
        flaky.batches.lock().unwrap().is_empty(),
        "no batch call was made"
    );
    assert_eq!(count(ns.as_ref(), "s", WorkUnitStatus::Finished), 20);
}

#[test]
fn the_observer_hears_each_applied_result_once_even_when_its_answer_was_lost() {
    let ns = namespace(&[WorkSpecDefinition::new("s")]);
    add_units(ns.as_ref(), "s", "u", 20);
    let flaky = Flaky::new(ns.clone());
    // Two sends commit but their answers never arrive: the completer
    // sends again and finds its results already there.
    flaky.lose_answers.store(2, Ordering::SeqCst);
    let heard = Arc::new(Mutex::new(Vec::new()));
    let observer = {
        let heard = heard.clone();
        move |completion: &Completion| {
            let failed = matches!(completion.outcome, Outcome::Fail(_));
            let name = completion.attempt.work_unit().name().to_owned();
            heard.lock().unwrap().push((name, failed));
        }
    };
    let runtime = quick(flaky.clone())
        .completion(CompletionMode::Batched {
            size: 5,
            delay: Duration::from_millis(20),
        })
        .on_applied(observer)
        .handler("s", |job: &Job| {
            Ok(match job.work_unit_name().ends_with('7') {
                true => JobOutcome::fail("sevens fail"),
                false => JobOutcome::finish(),
            })
        })
        .start()
        .unwrap();
    wait_until("every unit done", || {
        let stats = runtime.stats();
        stats.finished + stats.failed == 20
    });
    runtime.shutdown();
    let report = runtime.wait();
    assert_eq!(
        flaky.lose_answers.load(Ordering::SeqCst),
        0,
        "answers were lost"
    );
    assert_eq!((report.totals.lost_leases, report.totals.refused), (0, 0));
    let mut heard = heard.lock().unwrap().clone();
    heard.sort();
    let mut expected: Vec<(String, bool)> =
        (0..20).map(|i| (format!("u{i}"), i % 10 == 7)).collect();
    expected.sort();
    assert_eq!(heard, expected, "each result heard once, with its outcome");
    assert_eq!(count(ns.as_ref(), "s", WorkUnitStatus::Failed), 2);
}
