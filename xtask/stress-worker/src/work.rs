//! `stress work`: one worker runtime drains both work specs, carrying on
//! through backend outages, until no unit is open, its deadline passes,
//! or a SIGTERM stops it.

use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;
use coordinate_api::runtime::{
    signals, Backoff, Handler, Job, JobError, JobOutcome, Report, Runtime,
};
use coordinate_api::{Coordinate, Data, Namespace, Value, WorkUnitStatus};
use coordinate_postgres::{PostgresCoordinate, TransactionalHandler};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::counters;
use crate::failover::Acks;
use crate::{text, Options, OUTPUT_PREFIX, STAGE1, STAGE2};

/// How long a call waits for a pool connection before it fails.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a unit asked to be retried waits before it is offered again.
const RETRY_DELAY: Duration = Duration::from_millis(200);
/// Pause between tries to connect while the server restarts, and between
/// looks at whether units are still open.
const PAUSE: Duration = Duration::from_millis(200);
/// A unit whose handler errs this often fails for good, so the run ends.
const MAX_ATTEMPTS: usize = 3;

/// Runs the runtime until no unit is open; prints its counters.
pub fn run(options: &Options) -> Result<ExitCode> {
    let started = Instant::now();
    let deadline = started + options.deadline;
    // The server may be restarting while a replacement process starts.
    let (coordinate, namespace) = loop {
        match connect(options) {
            Ok(connected) => break connected,
            Err(error) if error.is_transient() && Instant::now() < deadline => {
                std::thread::sleep(PAUSE)
            }
            Err(error) => {
                eprintln!("stress: {} could not start: {error}", options.name);
                return Ok(ExitCode::from(1));
            }
        }
    };
    let outcomes = Arc::new(Mutex::new(StdRng::seed_from_u64(options.seed)));
    let acks = match &options.acks {
        Some(path) => Some(Acks::to_file(path)?),
        None => None,
    };
    let noted = acks.clone();
    let decide = move |job: &Job| {
        if let Some(acks) = &noted {
            acks.note_start(job)?;
        }
        act(job, &outcomes)
    };
    let handler: Arc<dyn Handler> = if options.transactional {
        // The finish and the unit's counter commit together, or neither.
        let name = options.namespace.clone();
        Arc::new(TransactionalHandler::new(&coordinate, move |job, conn| {
            let outcome = decide(job)?;
            if matches!(outcome, JobOutcome::Finish(_)) {
                counters::increment(conn, &name, job)?;
            }
            Ok(outcome)
        }))
    } else {
        Arc::new(decide)
    };
    let handler = move |job: &Job| handler.handle(job);
    // Starting writes the worker's records: a server restarting right
    // then is waited out too, as for connecting.
    let runtime = loop {
        let mut builder = Runtime::builder(namespace.clone());
        if let Some(acks) = acks.clone() {
            builder = builder.on_applied(move |completion| acks.applied(completion));
        }
        let started = builder
            .handler(STAGE1, handler.clone())
            .handler(STAGE2, handler.clone())
            .concurrency(options.threads)
            .prefetch(2)
            .lease(options.lease)
            .grace(options.grace)
            .poll_interval(Duration::from_millis(100))
            .max_attempts(MAX_ATTEMPTS)
            .backoff(Backoff {
                base: Duration::from_millis(50),
                cap: Duration::from_millis(500),
            })
            .worker_name(&options.name)
            .start();
        match started {
            Ok(runtime) => break runtime,
            Err(error) if error.is_transient() && Instant::now() < deadline => {
                std::thread::sleep(PAUSE)
            }
            Err(error) => return Err(error.into()),
        }
    };
    let _signals = signals::stop_on_signals(runtime.stopper())?;
    let mut timed_out = false;
    let mut last_look = Duration::ZERO;
    while !runtime.is_stopped() {
        if Instant::now() >= deadline {
            timed_out = true;
            break;
        }
        // A failed look (an outage) just means looking again.
        let look = Instant::now();
        let open = has_open_units(namespace.as_ref());
        last_look = look.elapsed();
        if matches!(open, Ok(false)) {
            break;
        }
        std::thread::sleep(PAUSE);
    }
    let signalled = runtime.is_stopped();
    let stop_seen = Instant::now();
    runtime.shutdown();
    let report = runtime.wait();
    let waited = stop_seen.elapsed();
    drop(namespace);
    drop(coordinate);
    if signalled {
        // The xtask times the whole exit; this says which part took it.
        eprintln!(
            "stress: {} stopped: the runtime's stop took {:?}, its wait returned {:?} \
             after the main loop saw the stop (its last look at the counts took {:?}), \
             the coordinate closed {:?} after that",
            options.name,
            report.shutdown,
            waited,
            last_look,
            stop_seen.elapsed() - waited
        );
    }
    println!(
        "{}",
        json(&options.name, &report, signalled, started.elapsed())
    );
    Ok(if timed_out {
        eprintln!("stress: {} gave up at its deadline", options.name);
        ExitCode::from(3)
    } else if report.totals.refused > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn connect(options: &Options) -> coordinate_api::Result<(PostgresCoordinate, Arc<dyn Namespace>)> {
    // Transactional handlers hold a connection each while they run.
    let per_thread = if options.transactional { 2 } else { 1 };
    let coordinate = PostgresCoordinate::builder(&options.backend)
        .pool_size(options.threads as u32 * per_thread + 2)
        .connection_timeout(CONNECTION_TIMEOUT)
        .build()?;
    let namespace = coordinate.namespace(&options.namespace)?;
    Ok((coordinate, namespace))
}

/// Whether either work spec still has a unit that is not finished or failed.
fn has_open_units(namespace: &dyn Namespace) -> coordinate_api::Result<bool> {
    for spec in [STAGE1, STAGE2] {
        let counts = namespace.work_spec(spec)?.count_work_unit_status()?;
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

/// One simulated job: on a unit's first attempt 70% finish, 10% fail, 10%
/// retry after a delay, 10% an error (retried with backoff by the
/// runtime); later 85% finish, 10% fail, 5% an error. Errors fail the unit
/// at its third attempt, so the run always ends.
fn act(job: &Job, outcomes: &Mutex<StdRng>) -> Result<JobOutcome, JobError> {
    let first = job.attempt_number()? <= 1;
    let roll = outcomes
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .random_range(0..100);
    Ok(match (first, roll) {
        (true, 0..70) | (false, 0..85) => {
            if job.work_spec_name() != STAGE1 {
                return Ok(JobOutcome::finish());
            }
            let name = format!("{OUTPUT_PREFIX}{}", job.work_unit_name());
            let mut data = Data::new();
            data.insert("output".into(), Value::Array(vec![text(&name)]));
            JobOutcome::finish_with(data)
        }
        (true, 70..80) | (false, 85..95) => JobOutcome::fail("simulated failure"),
        (true, 80..90) => JobOutcome::retry_after(RETRY_DELAY),
        _ => return Err("simulated error".into()),
    })
}

/// The counters line the xtask sums over processes.
fn json(name: &str, report: &Report, signalled: bool, elapsed: Duration) -> String {
    let totals = &report.totals;
    serde_json::json!({
        "name": name,
        "attempts": totals.claimed,
        "finished": totals.finished,
        "failed": totals.failed,
        "retried": totals.retried,
        "released": totals.released,
        "abandoned": totals.abandoned,
        "lost_leases": totals.lost_leases,
        "unsent": totals.unsent,
        "panicked": totals.panicked,
        "unexpected_errors": totals.refused,
        "signalled": u8::from(signalled),
        "shutdown_ms": report.shutdown.as_millis() as u64,
        "seconds": (elapsed.as_secs_f64() * 10.0).round() / 10.0,
    })
    .to_string()
}
