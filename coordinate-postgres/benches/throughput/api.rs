//! Workloads through the `coordinate` API, for either backend: claim +
//! finish with several workers, and adding units one by one or in batches.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use coordinate_api::{
    AttemptRequest, Completion, Coordinate, Data, Namespace, NewWorkUnit, Outcome, Value, WorkSpec,
    WorkUnitMeta,
};

/// What one timed run did.
pub struct Measured {
    /// Units processed.
    pub units: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// Latency of every timed call.
    pub latencies: Vec<Duration>,
}

/// A namespace with one work spec, unique to this process and run.
pub fn fresh_spec(
    coordinate: &Arc<dyn Coordinate>,
    label: &str,
) -> Result<(Arc<dyn Namespace>, Arc<dyn WorkSpec>)> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = format!(
        "bench-{label}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let namespace = coordinate.namespace(&name)?;
    let mut definition = Data::new();
    definition.insert("name".into(), Value::Text("spec".into()));
    let spec = namespace.set_work_spec(definition)?;
    Ok((namespace, spec))
}

/// Unit `i` of a batch: a short name that sorts in creation order and a
/// small data map, like a typical job.
pub fn new_unit(prefix: &str, i: u64) -> NewWorkUnit {
    let mut data = Data::new();
    data.insert("n".into(), Value::Integer(i.into()));
    NewWorkUnit {
        name: format!("{prefix}{i:09}"),
        data,
        meta: WorkUnitMeta::default(),
    }
}

/// Adds `count` units named `prefix…` with `add_work_units`, in chunks.
pub fn preload(spec: &Arc<dyn WorkSpec>, prefix: &str, count: u64) -> Result<()> {
    const CHUNK: u64 = 10_000;
    let mut start = 0;
    while start < count {
        let end = (start + CHUNK).min(count);
        let units = (start..end).map(|i| new_unit(prefix, i)).collect();
        spec.add_work_units(units).context("preloading units")?;
        start = end;
    }
    Ok(())
}

/// How a claim-and-finish worker reports its attempts done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finishing {
    /// `Attempt::finish` for each attempt: a commit per unit.
    OneByOne,
    /// One `Namespace::complete_attempts` per claimed batch.
    Batched,
    /// One `complete_attempts` per batch with a mix of outcomes: 2 % of
    /// the units fail and 10 % are retried once, without delay (see
    /// [`mixed_outcome`]).
    Mixed,
}

/// Whether unit number `n` of a mixed run fails.
fn fails(n: u64) -> bool {
    n % 50 == 7
}

/// Whether unit number `n` of a mixed run is retried once.
fn retried_once(n: u64) -> bool {
    n % 10 == 3
}

/// The outcome of a mixed run's attempt on `name` (`u<number>`); `retried`
/// holds the units already retried.
fn mixed_outcome(name: &str, retried: &Mutex<HashSet<String>>) -> Outcome {
    let n: u64 = name
        .trim_start_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .unwrap_or(0);
    if fails(n) {
        return Outcome::Fail(None);
    }
    if retried_once(n) && retried.lock().unwrap().insert(name.to_owned()) {
        return Outcome::Retry {
            data: None,
            delay: Duration::ZERO,
        };
    }
    Outcome::Finish(None)
}

/// What a mixed run of `units` units ends with: (claims, finished, failed).
pub fn mixed_totals(units: u64) -> (u64, u64, u64) {
    let failed = (0..units).filter(|n| fails(*n)).count() as u64;
    let retries = (0..units).filter(|n| retried_once(*n)).count() as u64;
    (units + retries, units - failed, failed)
}

/// `threads` workers each loop `request_attempts` (`batch` units of
/// `spec`) and finish every attempt, until the spec has nothing left.
/// Times every `request_attempts`. Fails if the workers were handed another
/// number of units than `expected` claims (a unit claimed twice).
pub fn claim_finish(
    namespace: &Arc<dyn Namespace>,
    spec: &str,
    threads: usize,
    batch: usize,
    finishing: Finishing,
    expected: u64,
) -> Result<Measured> {
    let request = AttemptRequest {
        number_of_work_units: batch,
        work_specs: vec![spec.to_owned()],
        ..AttemptRequest::default()
    };
    let workers = (0..threads)
        .map(|t| namespace.worker(&format!("worker-{t}")))
        .collect::<coordinate_api::Result<Vec<_>>>()?;
    let retried = Mutex::new(HashSet::new());
    let start = Instant::now();
    let results: Vec<Result<(u64, Vec<Duration>)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = workers
            .iter()
            .map(|worker| {
                let (request, retried) = (&request, &retried);
                scope.spawn(move || -> Result<(u64, Vec<Duration>)> {
                    let mut done = 0;
                    let mut latencies = Vec::new();
                    loop {
                        let asked = Instant::now();
                        let attempts = worker.request_attempts(request)?;
                        latencies.push(asked.elapsed());
                        if attempts.is_empty() {
                            return Ok((done, latencies));
                        }
                        done += attempts.len() as u64;
                        match finishing {
                            Finishing::OneByOne => {
                                for attempt in attempts {
                                    attempt.finish(None)?;
                                }
                            }
                            Finishing::Batched | Finishing::Mixed => {
                                let batch: Vec<Completion> = attempts
                                    .into_iter()
                                    .map(|a| {
                                        let outcome = if finishing == Finishing::Mixed {
                                            mixed_outcome(a.work_unit().name(), retried)
                                        } else {
                                            Outcome::Finish(None)
                                        };
                                        Completion::new(a, outcome)
                                    })
                                    .collect();
                                for answer in namespace.complete_attempts(&batch)? {
                                    answer?;
                                }
                            }
                        }
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| bail!("a worker panicked")))
            .collect()
    });
    let elapsed = start.elapsed();
    let mut units = 0;
    let mut latencies = Vec::new();
    for result in results {
        let (done, mut times) = result?;
        units += done;
        // The last, empty request of each worker is not work.
        times.pop();
        latencies.append(&mut times);
    }
    if units != expected {
        bail!("claim+finish handed out {units} units, expected {expected}");
    }
    Ok(Measured {
        units,
        elapsed,
        latencies,
    })
}

/// `threads` threads add `count` units in total, with `add_work_unit`
/// (`batch` = 1) or with `add_work_units` of `batch` units per call.
pub fn add(spec: &Arc<dyn WorkSpec>, threads: usize, batch: u64, count: u64) -> Result<Measured> {
    let per_thread = count / threads as u64;
    let start = Instant::now();
    let results: Vec<Result<Vec<Duration>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || -> Result<Vec<Duration>> {
                    let prefix = format!("add-{t}-");
                    let mut latencies = Vec::new();
                    let mut i = 0;
                    while i < per_thread {
                        let end = (i + batch).min(per_thread);
                        let called = Instant::now();
                        if batch == 1 {
                            let unit = new_unit(&prefix, i);
                            spec.add_work_unit(&unit.name, unit.data, unit.meta)?;
                        } else {
                            spec.add_work_units((i..end).map(|j| new_unit(&prefix, j)).collect())?;
                        }
                        latencies.push(called.elapsed());
                        i = end;
                    }
                    Ok(latencies)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| bail!("an adding thread panicked"))
            })
            .collect()
    });
    let elapsed = start.elapsed();
    let mut latencies = Vec::new();
    for result in results {
        latencies.append(&mut result?);
    }
    Ok(Measured {
        units: per_thread * threads as u64,
        elapsed,
        latencies,
    })
}
