//! `stress work`: threads under one parent worker drain both work specs,
//! carrying on through backend outages.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;
use coordinate_api::{
    Attempt, AttemptRequest, Coordinate, Data, Error, Value, WorkSpec, WorkUnitStatus, Worker,
};
use coordinate_postgres::PostgresCoordinate;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::{text, Options, OUTPUT_PREFIX, STAGE1, STAGE2};

/// How long a thread waits for a pool connection before the call fails.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a unit asked to be retried waits before it is offered again.
const RETRY_DELAY: Duration = Duration::from_millis(200);
/// Pause after a backend error before the call is tried again.
const ERROR_PAUSE: Duration = Duration::from_millis(150);
/// Pause when nothing is available but some units are still open.
const IDLE_PAUSE: Duration = Duration::from_millis(100);
/// Distinct error messages kept for the report.
const MAX_SAMPLES: usize = 6;

/// What the process did, summed over its threads.
#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    attempts: AtomicU64,
    finished: AtomicU64,
    failed: AtomicU64,
    retried: AtomicU64,
    abandoned: AtomicU64,
    /// Completions refused with "not pending" or "lost lease": the lease
    /// ran out (for example during an outage) or an earlier try of the same
    /// call committed before its answer was lost.
    refused: AtomicU64,
    /// Transient backend errors seen; each call was tried again.
    backend_errors: AtomicU64,
    /// Any other error: none is expected, so the process fails.
    unexpected_errors: AtomicU64,
    samples: Mutex<BTreeSet<String>>,
}

impl Counters {
    fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn sample(&self, error: &Error) {
        let mut samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        if samples.len() < MAX_SAMPLES {
            // The whole chain, each cause once; one line per message:
            // libpq's span several.
            let mut message = error.to_string();
            let mut cause = std::error::Error::source(error);
            while let Some(next) = cause {
                message = format!("{message}: {next}");
                cause = next.source();
            }
            samples.insert(message.split_whitespace().collect::<Vec<_>>().join(" "));
        }
    }

    fn json(&self, name: &str, elapsed: Duration) -> String {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut out = format!("{{\"name\":{}", quote(name));
        for (key, counter) in [
            ("requests", &self.requests),
            ("attempts", &self.attempts),
            ("finished", &self.finished),
            ("failed", &self.failed),
            ("retried", &self.retried),
            ("abandoned", &self.abandoned),
            ("refused", &self.refused),
            ("backend_errors", &self.backend_errors),
            ("unexpected_errors", &self.unexpected_errors),
        ] {
            let _ = write!(out, ",\"{key}\":{}", get(counter));
        }
        let _ = write!(out, ",\"seconds\":{:.1}", elapsed.as_secs_f64());
        let samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        let quoted: Vec<String> = samples.iter().map(|s| quote(s)).collect();
        let _ = write!(out, ",\"error_samples\":[{}]}}", quoted.join(","));
        out
    }
}

/// A JSON string literal.
fn quote(text: &str) -> String {
    serde_json::to_string(text).expect("a string always serializes")
}

/// Why a thread stopped calling.
enum Stop {
    /// The deadline passed.
    Deadline,
    /// The call failed with an error that trying again cannot cure (a
    /// refusal, or a backend failure such as a broken schema).
    Refused(Error),
}

/// Everything a thread needs.
struct Context<'a> {
    counters: &'a Counters,
    deadline: Instant,
}

impl Context<'_> {
    /// Runs `call` until it returns something other than a transient
    /// backend error (lost connection, busy pool, conflict, timeout),
    /// pausing after each of those.
    fn retrying<T>(&self, mut call: impl FnMut() -> coordinate_api::Result<T>) -> Result<T, Stop> {
        loop {
            match call() {
                Ok(value) => return Ok(value),
                Err(error) if error.is_transient() => {
                    Counters::add(&self.counters.backend_errors);
                    self.counters.sample(&error);
                    if Instant::now() >= self.deadline {
                        return Err(Stop::Deadline);
                    }
                    std::thread::sleep(ERROR_PAUSE);
                }
                Err(error) => return Err(Stop::Refused(error)),
            }
        }
    }
}

/// Runs the worker threads until no unit is open; prints the counters.
pub fn run(options: &Options) -> Result<ExitCode> {
    let started = Instant::now();
    let counters = Counters::default();
    let context = Context {
        counters: &counters,
        deadline: started + options.deadline,
    };
    // The server may be restarting while a replacement process starts.
    let coordinate: Arc<dyn Coordinate> = match context.retrying(|| {
        PostgresCoordinate::builder(&options.backend)
            .pool_size(options.threads as u32)
            .connection_timeout(CONNECTION_TIMEOUT)
            .build()
    }) {
        Ok(c) => Arc::new(c),
        Err(stop) => return Ok(report(options, &counters, started, Some(stop))),
    };
    let setup = || -> Result<_, Stop> {
        let namespace = context.retrying(|| coordinate.namespace(&options.namespace))?;
        let parent = context.retrying(|| namespace.worker(&options.name))?;
        let stage1 = context.retrying(|| namespace.work_spec(STAGE1))?;
        let stage2 = context.retrying(|| namespace.work_spec(STAGE2))?;
        let mut children = Vec::new();
        for t in 0..options.threads {
            let child = context.retrying(|| namespace.worker(&format!("{}-t{t}", options.name)))?;
            context.retrying(|| child.set_parent(Some(parent.clone())))?;
            children.push(child);
        }
        Ok((children, [stage1, stage2]))
    };
    let (children, specs) = match setup() {
        Ok(parts) => parts,
        Err(stop) => return Ok(report(options, &counters, started, Some(stop))),
    };
    let stops: Vec<Option<Stop>> = std::thread::scope(|scope| {
        let handles: Vec<_> = children
            .iter()
            .enumerate()
            .map(|(t, worker)| {
                let (context, specs) = (&context, &specs);
                let seed = options.seed.wrapping_mul(1_000_003).wrapping_add(t as u64);
                scope.spawn(move || {
                    work_loop(context, worker.as_ref(), specs, options.lease, seed).err()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(Some(Stop::Deadline)))
            .collect()
    });
    let first_stop = stops.into_iter().flatten().next();
    Ok(report(options, &counters, started, first_stop))
}

/// Prints the counters and picks the exit status: 0 when every thread saw
/// all units done without an unexpected error, 3 at the deadline, 1 else.
fn report(
    options: &Options,
    counters: &Counters,
    started: Instant,
    stop: Option<Stop>,
) -> ExitCode {
    if let Some(Stop::Refused(error)) = &stop {
        Counters::add(&counters.unexpected_errors);
        counters.sample(error);
    }
    println!("{}", counters.json(&options.name, started.elapsed()));
    match stop {
        None if counters.unexpected_errors.load(Ordering::Relaxed) == 0 => ExitCode::SUCCESS,
        Some(Stop::Deadline) => {
            eprintln!("stress: {} gave up at its deadline", options.name);
            ExitCode::from(3)
        }
        _ => ExitCode::from(1),
    }
}

/// One thread: request, act, repeat until every unit is finished or failed.
fn work_loop(
    context: &Context<'_>,
    worker: &dyn Worker,
    specs: &[Arc<dyn WorkSpec>; 2],
    lease: Duration,
    seed: u64,
) -> Result<(), Stop> {
    let mut rng = StdRng::seed_from_u64(seed);
    loop {
        if Instant::now() >= context.deadline {
            return Err(Stop::Deadline);
        }
        let request = AttemptRequest {
            lifetime: lease,
            number_of_work_units: rng.random_range(1..=3),
            ..AttemptRequest::default()
        };
        Counters::add(&context.counters.requests);
        let attempts = context.retrying(|| worker.request_attempts(&request))?;
        if attempts.is_empty() {
            if !has_open_units(context, specs)? {
                return Ok(());
            }
            std::thread::sleep(IDLE_PAUSE);
            continue;
        }
        for attempt in attempts {
            Counters::add(&context.counters.attempts);
            act(context, attempt.as_ref(), &mut rng)?;
        }
    }
}

/// Whether either work spec still has a unit that is not finished or failed.
fn has_open_units(context: &Context<'_>, specs: &[Arc<dyn WorkSpec>; 2]) -> Result<bool, Stop> {
    for spec in specs {
        let counts = context.retrying(|| spec.count_work_unit_status())?;
        let open = [
            WorkUnitStatus::Available,
            WorkUnitStatus::Pending,
            WorkUnitStatus::Delayed,
        ]
        .iter()
        .any(|status| counts.get(status).copied().unwrap_or(0) > 0);
        if open {
            return Ok(true);
        }
    }
    Ok(false)
}

/// What a simulated job does with its attempt.
enum Action {
    Finish,
    Fail,
    Retry,
    Abandon,
}

/// Picks and performs an action: on a unit's first attempt 70% finish, 10%
/// fail, 10% retry, 10% abandon; later 85% finish, 10% fail, 5% abandon
/// (so each unit is retried at most once and the run always ends).
fn act(context: &Context<'_>, attempt: &dyn Attempt, rng: &mut StdRng) -> Result<(), Stop> {
    let unit = attempt.work_unit();
    let first = context.retrying(|| unit.num_attempts())? <= 1;
    let roll = rng.random_range(0..100);
    let action = match (first, roll) {
        (true, 0..70) | (false, 0..85) => Action::Finish,
        (true, 70..80) | (false, 85..95) => Action::Fail,
        (true, 80..90) => Action::Retry,
        _ => Action::Abandon,
    };
    let counters = context.counters;
    let outcome = match action {
        Action::Abandon => {
            // Nothing is reported: the lease runs out and another worker
            // gets the unit after expiry.
            Counters::add(&counters.abandoned);
            return Ok(());
        }
        Action::Finish => {
            let data = (unit.work_spec().name() == STAGE1).then(|| {
                let name = format!("{OUTPUT_PREFIX}{}", unit.name());
                let mut data = Data::new();
                data.insert("output".into(), Value::Array(vec![text(&name)]));
                data
            });
            context
                .retrying(|| attempt.finish(data.clone()))
                .map(|()| &counters.finished)
        }
        Action::Fail => {
            let mut data = Data::new();
            data.insert("traceback".into(), text("simulated failure"));
            context
                .retrying(|| attempt.fail(Some(data.clone())))
                .map(|()| &counters.failed)
        }
        Action::Retry => context
            .retrying(|| attempt.retry(None, RETRY_DELAY))
            .map(|()| &counters.retried),
    };
    match outcome {
        Ok(counter) => Counters::add(counter),
        Err(Stop::Refused(Error::NotPending { .. } | Error::LostLease { .. })) => {
            Counters::add(&counters.refused)
        }
        Err(stop) => return Err(stop),
    }
    Ok(())
}
