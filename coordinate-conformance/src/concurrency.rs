//! Concurrency: many threads sharing one coordinate, as the workers of a
//! deployment do. Threads run under `std::thread::scope`, so a panic in
//! any of them fails the case.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use coordinate_api::{
    Attempt, AttemptRequest, Data, Error, Namespace, Result, WorkUnitMeta, WorkUnitQuery,
    WorkUnitStatus, Worker,
};

use crate::{Backend, Fixture};

/// Threads per case, as go-coordinate's pool uses.
const THREADS: usize = 8;

/// Adds units `u0000`, `u0001`, … to a spec.
fn add_units(spec: &dyn coordinate_api::WorkSpec, count: usize) {
    for i in 0..count {
        spec.add_work_unit(&format!("u{i:04}"), Data::new(), WorkUnitMeta::default())
            .expect("add_work_unit");
    }
}

/// Errors a caller racing a deletion may see.
fn deletion_error(error: &Error) -> bool {
    matches!(
        error,
        Error::Gone { .. } | Error::NoSuchWorkSpec { .. } | Error::NoSuchWorkUnit { .. }
    )
}

/// Accepts `Ok` or an error explained by a concurrent deletion.
fn ok_or_deleted<T>(what: &str, result: Result<T>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(error) if deletion_error(&error) => None,
        Err(error) => panic!("{what}: unexpected {error:?}"),
    }
}

/// Finishes counted so far by the workers of a case, which a racing
/// thread can wait for without spinning.
#[derive(Default)]
struct Progress {
    finished: Mutex<usize>,
    changed: Condvar,
}

/// How long a racing thread waits for the workers: far longer than they
/// need, so only a stuck or failing worker runs into it.
const PROGRESS_TIMEOUT: Duration = Duration::from_secs(30);

impl Progress {
    /// Counts one finish and wakes whoever waits.
    fn add(&self) {
        *self.finished.lock().unwrap_or_else(PoisonError::into_inner) += 1;
        self.changed.notify_all();
    }

    /// Blocks until `target` finishes were counted, so a deletion races
    /// claims already under way instead of running before any worker
    /// starts. Fails the case when that never happens: the race it is
    /// about would not have been tested.
    fn wait_for(&self, target: usize) {
        let finished = self.finished.lock().unwrap_or_else(PoisonError::into_inner);
        let (finished, timeout) = self
            .changed
            .wait_timeout_while(finished, PROGRESS_TIMEOUT, |finished| *finished < target)
            .unwrap_or_else(PoisonError::into_inner);
        assert!(
            !timeout.timed_out(),
            "the workers finished only {} of the {target} units the race waits for \
             within {PROGRESS_TIMEOUT:?}: the race never happened",
            *finished
        );
    }
}

/// Requests work with `request` until there is none, finishing every
/// attempt, and returns how often it finished each unit (by
/// `spec/unit`); counts finishes in `progress` too. Errors from
/// concurrent deletions are tolerated.
fn drain(
    namespace: &dyn Namespace,
    name: &str,
    request: &AttemptRequest,
    progress: &Progress,
) -> BTreeMap<String, usize> {
    let worker = namespace.worker(name).expect("worker");
    let mut done = BTreeMap::new();
    // A generous bound: a bug must fail the case, not hang it.
    for _ in 0..100_000 {
        let Some(attempts) = ok_or_deleted("request_attempts", worker.request_attempts(request))
        else {
            continue;
        };
        if attempts.is_empty() {
            return done;
        }
        for attempt in attempts {
            let key = format!(
                "{}/{}",
                attempt.work_unit().work_spec().name(),
                attempt.work_unit().name()
            );
            if ok_or_deleted("finish", attempt.finish(None)).is_some() {
                *done.entry(key).or_insert(0) += 1;
                progress.add();
            }
        }
    }
    panic!("worker {name} never ran out of work");
}

/// Adds up per-worker finish counts.
fn merge(results: Vec<BTreeMap<String, usize>>) -> BTreeMap<String, usize> {
    let mut total = BTreeMap::new();
    for result in results {
        for (key, count) in result {
            *total.entry(key).or_insert(0) += count;
        }
    }
    total
}

/// Runs `drain` on [`THREADS`] threads at once.
fn drain_in_parallel(fx: &Fixture, request: &AttemptRequest) -> BTreeMap<String, usize> {
    let progress = Progress::default();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|i| {
                let (namespace, progress) = (fx.namespace.as_ref(), &progress);
                scope.spawn(move || drain(namespace, &format!("worker{i}"), request, progress))
            })
            .collect();
        merge(
            handles
                .into_iter()
                .map(|h| h.join().expect("worker thread"))
                .collect(),
        )
    })
}

/// 8 workers drain 1,000 units; each unit is finished exactly once (go: TestConcurrentExecution).
pub fn concurrent_execution(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    add_units(spec.as_ref(), 1000);
    let done = drain_in_parallel(&fx, &AttemptRequest::default());
    assert_eq!(done.len(), 1000);
    assert!(
        done.values().all(|&count| count == 1),
        "a unit was done twice"
    );
    let counts = spec.count_work_unit_status().expect("counts");
    assert_eq!(counts.get(&WorkUnitStatus::Finished), Some(&1000));
    let attempts: usize = fx
        .namespace
        .workers()
        .expect("workers")
        .iter()
        .map(|w| w.all_attempts().expect("all_attempts").len())
        .sum();
    assert_eq!(attempts, 1000);
}

/// Batched claims from 8 workers never hand one unit to two of them.
pub fn concurrent_batches(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    add_units(spec.as_ref(), 300);
    let request = AttemptRequest {
        number_of_work_units: 7,
        ..AttemptRequest::default()
    };
    let done = drain_in_parallel(&fx, &request);
    assert_eq!(done.len(), 300);
    assert!(
        done.values().all(|&count| count == 1),
        "a unit was done twice"
    );
}

/// 8 threads add the same 1,000 unit names at once, without error (go: TestAddSameUnit).
pub fn add_same_unit(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                for i in 0..1000 {
                    spec.add_work_unit(
                        &format!("unit{i:03}"),
                        Data::new(),
                        WorkUnitMeta::default(),
                    )
                    .expect("add_work_unit");
                }
            });
        }
    });
    let units = spec.work_units(&WorkUnitQuery::all()).expect("work_units");
    assert_eq!(units.len(), 1000);
    let counts = spec.count_work_unit_status().expect("counts");
    assert_eq!(counts.get(&WorkUnitStatus::Available), Some(&1000));
}

/// Racing get-or-create of one worker and one work spec makes exactly one of each.
pub fn concurrent_get_or_create(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                for _ in 0..20 {
                    fx.namespace.worker("same").expect("worker");
                    fx.namespace
                        .set_work_spec(crate::definition("same", &[]))
                        .expect("set_work_spec");
                }
            });
        }
    });
    assert_eq!(fx.namespace.workers().expect("workers").len(), 1);
    assert_eq!(fx.namespace.work_spec_names().expect("names"), ["same"]);
}

/// Racing completions of one attempt: exactly one of them wins.
pub fn racing_completions(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    type Call = fn(&dyn Attempt) -> Result<()>;
    let finish: Call = |a| a.finish(None);
    let fail: Call = |a| a.fail(None);
    let retry: Call = |a| a.retry(None, Duration::ZERO);
    let rounds: [(&str, [Call; THREADS]); 2] = [
        ("finish", [finish; THREADS]),
        (
            "fail/retry",
            [fail, retry, fail, retry, fail, retry, fail, retry],
        ),
    ];
    for (round, calls) in rounds {
        let unit = fx.unit(&spec, round);
        let attempt = fx
            .worker("worker")
            .make_attempt(unit, Duration::from_secs(600))
            .expect("make_attempt");
        let wins = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for call in calls {
                let (attempt, wins) = (attempt.as_ref(), &wins);
                scope.spawn(move || match call(attempt) {
                    Ok(()) => {
                        wins.fetch_add(1, Ordering::SeqCst);
                    }
                    Err(Error::NotPending { .. }) => {}
                    Err(other) => panic!("{round}: unexpected {other:?}"),
                });
            }
        });
        assert_eq!(wins.into_inner(), 1, "{round}");
    }
}

/// Claims racing `delete_work_units`: only Ok or deletion errors, and every unit deleted exactly once.
pub fn claims_race_unit_deletion(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    add_units(spec.as_ref(), 200);
    let names: Vec<String> = (0..200).map(|i| format!("u{i:04}")).collect();
    let progress = Progress::default();
    let deleted = std::thread::scope(|scope| {
        for i in 0..4 {
            let (namespace, progress) = (fx.namespace.as_ref(), &progress);
            scope.spawn(move || {
                drain(
                    namespace,
                    &format!("worker{i}"),
                    &AttemptRequest::default(),
                    progress,
                )
            });
        }
        let (spec, names, progress) = (&spec, &names, &progress);
        let deleter = scope.spawn(move || {
            progress.wait_for(20);
            names
                .chunks(10)
                .map(|chunk| {
                    spec.delete_work_units(&WorkUnitQuery::names(chunk.iter().cloned()))
                        .expect("delete_work_units")
                })
                .sum::<usize>()
        });
        deleter.join().expect("deleter")
    });
    assert_eq!(deleted, 200);
    assert!(spec
        .work_units(&WorkUnitQuery::all())
        .expect("units")
        .is_empty());
    assert!(spec.count_work_unit_status().expect("counts").is_empty());
    for worker in fx.namespace.workers().expect("workers") {
        assert!(worker.active_attempts().expect("active").is_empty());
        assert!(worker.all_attempts().expect("all").is_empty());
    }
    crate::attempt::request_none(fx.worker("late").as_ref());
}

/// Claims racing `destroy_work_spec`: only Ok or deletion errors; the other spec is done exactly once.
pub fn claims_race_spec_destruction(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let doomed = fx.spec("doomed", &[]);
    let kept = fx.spec("kept", &[]);
    add_units(doomed.as_ref(), 100);
    add_units(kept.as_ref(), 100);
    let progress = Progress::default();
    let done = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let (namespace, progress) = (fx.namespace.as_ref(), &progress);
                scope.spawn(move || {
                    drain(
                        namespace,
                        &format!("worker{i}"),
                        &AttemptRequest::default(),
                        progress,
                    )
                })
            })
            .collect();
        let (namespace, progress) = (fx.namespace.as_ref(), &progress);
        scope.spawn(move || {
            progress.wait_for(20);
            namespace
                .destroy_work_spec("doomed")
                .expect("destroy_work_spec");
        });
        merge(
            handles
                .into_iter()
                .map(|h| h.join().expect("worker"))
                .collect(),
        )
    });
    assert_eq!(fx.namespace.work_spec_names().expect("names"), ["kept"]);
    let kept_done: Vec<_> = done
        .iter()
        .filter(|(k, _)| k.starts_with("kept/"))
        .collect();
    assert_eq!(kept_done.len(), 100);
    assert!(
        kept_done.iter().all(|(_, &count)| count == 1),
        "a unit was done twice"
    );
    assert!(
        done.values().all(|&count| count == 1),
        "a unit was done twice"
    );
    let counts = kept.count_work_unit_status().expect("counts");
    assert_eq!(counts.get(&WorkUnitStatus::Finished), Some(&100));
    assert!(matches!(doomed.meta(false), Err(Error::Gone { .. })));
    let workers: Vec<Arc<dyn Worker>> = fx.namespace.workers().expect("workers");
    for worker in workers {
        assert!(worker.active_attempts().expect("active").is_empty());
    }
}
