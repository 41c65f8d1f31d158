//! A two-stage pipeline: "fetch" units produce "parse" units through
//! `then`, worked off by several threads under one parent worker.
//!
//! ```text
//! cargo run -p coordinate-postgres --example pipeline             # in memory
//! cargo run -p coordinate-postgres --example pipeline -- \
//!     --backend postgres://user:secret@localhost/coordinate        # PostgreSQL
//! cargo run -p coordinate-postgres --example pipeline -- --help
//! ```
//!
//! Some units fail, some ask to be retried after a delay, and a few are
//! slow enough that their workers renew the lease while working. Progress
//! bars follow each work spec; at the end the namespace summary and the
//! throughput are printed and the namespace is destroyed.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use coordinate_api::{
    Attempt, AttemptRequest, Coordinate, Data, Namespace, Value, WorkSpec, WorkUnitMeta,
    WorkUnitStatus, Worker,
};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use rand::Rng;

const USAGE: &str = "\
usage: pipeline [options]

  --backend <conn>       PostgreSQL connection string (postgres://..., //...,
                         postgres:key=value ..., or \"\" for the PG* variables);
                         without it the pipeline runs in memory
  --backend-env <var>    the same, read from an environment variable (keeps
                         a password off the command line)
  --units <n>            fetch units to queue (default 2000)
  --workers <n>          worker threads (default 4)
  --fail-percent <p>     share of units that fail (default 2)
  --retry-percent <p>    share of fetches retried once after a delay (default 5)
  --work-ms <ms>         simulated work per unit (default 0)
  --keep                 keep the namespace afterwards
";

/// Lease asked for per attempt; slow units renew it while working.
const LEASE: Duration = Duration::from_secs(30);
/// How long a unit asked to be retried waits before it is offered again.
const RETRY_DELAY: Duration = Duration::from_millis(300);
/// Units each request asks for, so one round trip serves several units.
const BATCH: usize = 20;

struct Options {
    backend: Option<String>,
    units: usize,
    workers: usize,
    fail_percent: f64,
    retry_percent: f64,
    work: Duration,
    keep: bool,
}

fn parse_options() -> Result<Options> {
    let mut options = Options {
        backend: None,
        units: 2000,
        workers: 4,
        fail_percent: 2.0,
        retry_percent: 5.0,
        work: Duration::ZERO,
        keep: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--backend" => options.backend = Some(value()?),
            "--backend-env" => {
                let name = value()?;
                let conn = std::env::var(&name)
                    .with_context(|| format!("--backend-env: {name} is not set"))?;
                options.backend = Some(conn);
            }
            "--units" => options.units = value()?.parse().context("--units")?,
            "--workers" => options.workers = value()?.parse().context("--workers")?,
            "--fail-percent" => {
                options.fail_percent = value()?.parse().context("--fail-percent")?
            }
            "--retry-percent" => {
                options.retry_percent = value()?.parse().context("--retry-percent")?
            }
            "--work-ms" => {
                options.work = Duration::from_millis(value()?.parse().context("--work-ms")?)
            }
            "--keep" => options.keep = true,
            "-h" | "--help" => {
                print!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?}\n\n{USAGE}"),
        }
    }
    if options.workers == 0 {
        bail!("--workers must be at least 1");
    }
    Ok(options)
}

fn connect(backend: Option<&str>) -> Result<Arc<dyn Coordinate>> {
    Ok(match backend {
        None => Arc::new(coordinate_memory::MemoryCoordinate::new()),
        Some(conn) => Arc::new(
            coordinate_postgres::PostgresCoordinate::builder(conn)
                .pool_size(16)
                .build()
                .context("connecting to PostgreSQL")?,
        ),
    })
}

fn text(value: &str) -> Value {
    Value::Text(value.to_owned())
}

fn define_specs(namespace: &dyn Namespace) -> Result<(Arc<dyn WorkSpec>, Arc<dyn WorkSpec>)> {
    let mut fetch = Data::new();
    fetch.insert("name".into(), text("fetch"));
    fetch.insert("then".into(), text("parse"));
    let mut parse = Data::new();
    parse.insert("name".into(), text("parse"));
    Ok((
        namespace.set_work_spec(fetch)?,
        namespace.set_work_spec(parse)?,
    ))
}

/// What one simulated job decides to report.
enum Outcome {
    Finish,
    Fail,
    Retry,
}

fn pick_outcome(options: &Options, attempt: &dyn Attempt) -> Result<Outcome> {
    let roll: f64 = rand::rng().random_range(0.0..100.0);
    if roll < options.fail_percent {
        return Ok(Outcome::Fail);
    }
    let is_fetch = attempt.work_unit().work_spec().name() == "fetch";
    // Retry each unit at most once, so the run always ends.
    if is_fetch
        && roll < options.fail_percent + options.retry_percent
        && attempt.work_unit().num_attempts()? == 1
    {
        return Ok(Outcome::Retry);
    }
    Ok(Outcome::Finish)
}

/// Does one unit's work: sleeps for the simulated work time, renewing the
/// lease halfway through on slow units, then reports the outcome.
fn work_on(options: &Options, attempt: &dyn Attempt) -> Result<()> {
    let unit = attempt.work_unit();
    let slow = unit.name().ends_with('7');
    if slow && !options.work.is_zero() {
        thread::sleep(options.work);
        attempt.renew(LEASE, None)?;
    }
    thread::sleep(options.work);
    match pick_outcome(options, attempt)? {
        Outcome::Fail => {
            let mut data = Data::new();
            data.insert("traceback".into(), text("simulated failure"));
            attempt.fail(Some(data))
        }
        Outcome::Retry => attempt.retry(None, RETRY_DELAY),
        Outcome::Finish if unit.work_spec().name() == "fetch" => {
            // The output becomes a "parse" unit through the spec's `then`.
            let mut parse_data = BTreeMap::new();
            parse_data.insert(text("source"), text(unit.name()));
            let mut output = BTreeMap::new();
            output.insert(
                text(&format!("parsed-{}", unit.name())),
                Value::Map(parse_data),
            );
            let mut data = unit.data()?;
            data.insert("output".into(), Value::Map(output));
            attempt.finish(Some(data))
        }
        Outcome::Finish => attempt.finish(None),
    }?;
    Ok(())
}

/// Whether a spec still has units that someone will work on.
fn has_open_units(spec: &dyn WorkSpec) -> Result<bool> {
    let counts = spec.count_work_unit_status()?;
    Ok([
        WorkUnitStatus::Available,
        WorkUnitStatus::Pending,
        WorkUnitStatus::Delayed,
    ]
    .iter()
    .any(|status| counts.get(status).copied().unwrap_or(0) > 0))
}

fn run_worker(
    options: &Options,
    worker: &dyn Worker,
    specs: &[Arc<dyn WorkSpec>],
    done: &AtomicBool,
) -> Result<()> {
    let request = AttemptRequest {
        number_of_work_units: BATCH,
        lifetime: LEASE,
        ..AttemptRequest::default()
    };
    while !done.load(Ordering::Relaxed) {
        let attempts = worker.request_attempts(&request)?;
        if attempts.is_empty() {
            // Nothing offered: either everything is done (parse units come
            // only from finished fetches) or the rest is delayed or leased.
            let mut open = false;
            for spec in specs {
                open |= has_open_units(spec.as_ref())?;
            }
            if !open {
                done.store(true, Ordering::Relaxed);
            }
            thread::sleep(Duration::from_millis(20));
            continue;
        }
        for attempt in attempts {
            work_on(options, attempt.as_ref())?;
        }
    }
    worker.deactivate()?;
    Ok(())
}

/// Redraws one progress bar per spec until the workers are done.
fn show_progress(specs: &[Arc<dyn WorkSpec>], done: &AtomicBool) -> Result<()> {
    let bars = MultiProgress::new();
    let style = ProgressStyle::with_template("{prefix:>6} [{bar:40}] {pos}/{len} {msg}")
        .expect("a valid template")
        .progress_chars("=> ");
    let spec_bars: Vec<ProgressBar> = specs
        .iter()
        .map(|spec| {
            let bar = bars.add(ProgressBar::new(0).with_style(style.clone()));
            bar.set_prefix(spec.name().to_owned());
            bar
        })
        .collect();
    loop {
        let finished = done.load(Ordering::Relaxed);
        for (spec, bar) in specs.iter().zip(&spec_bars) {
            let counts = spec.count_work_unit_status()?;
            let count = |status| counts.get(&status).copied().unwrap_or(0) as u64;
            let closed = count(WorkUnitStatus::Finished) + count(WorkUnitStatus::Failed);
            bar.set_length(counts.values().sum::<usize>() as u64);
            bar.set_position(closed);
            bar.set_message(format!(
                "{} pending, {} delayed, {} failed",
                count(WorkUnitStatus::Pending),
                count(WorkUnitStatus::Delayed),
                count(WorkUnitStatus::Failed)
            ));
        }
        if finished {
            spec_bars.iter().for_each(ProgressBar::finish);
            return Ok(());
        }
        thread::sleep(Duration::from_millis(100));
    }
}

fn queue_units(spec: &dyn WorkSpec, units: usize) -> Result<()> {
    for index in 0..units {
        let mut data = Data::new();
        data.insert(
            "url".into(),
            text(&format!("https://example.com/page/{index}")),
        );
        spec.add_work_unit(&format!("page-{index:06}"), data, WorkUnitMeta::default())?;
    }
    Ok(())
}

fn print_summary(namespace: &dyn Namespace, elapsed: Duration) -> Result<()> {
    println!("\n{:<8} {:<10} {:>8}", "spec", "status", "units");
    let mut closed = 0;
    for record in namespace.summarize()? {
        println!(
            "{:<8} {:<10} {:>8}",
            record.work_spec,
            format!("{:?}", record.status),
            record.count
        );
        if matches!(
            record.status,
            WorkUnitStatus::Finished | WorkUnitStatus::Failed
        ) {
            closed += record.count;
        }
    }
    let seconds = elapsed.as_secs_f64();
    println!(
        "\n{closed} units done in {seconds:.2} s: {:.0} units/s",
        closed as f64 / seconds
    );
    Ok(())
}

fn main() -> Result<()> {
    let options = parse_options()?;
    let coordinate = connect(options.backend.as_deref())?;
    let namespace_name = format!("pipeline-{}", std::process::id());
    let namespace = coordinate.namespace(&namespace_name)?;
    let (fetch, parse) = define_specs(namespace.as_ref())?;
    queue_units(fetch.as_ref(), options.units)?;
    println!(
        "namespace {namespace_name}: {} fetch units, {} workers, {} backend",
        options.units,
        options.workers,
        if options.backend.is_some() {
            "PostgreSQL"
        } else {
            "memory"
        }
    );

    // One parent worker stands for this process; each thread is a child,
    // so an operator sees the whole process's attempts in one place.
    let parent = namespace.worker(&format!("{namespace_name}-parent"))?;
    let specs = [fetch, parse];
    let done = AtomicBool::new(false);
    let started = Instant::now();
    thread::scope(|scope| -> Result<()> {
        let mut threads = Vec::new();
        for index in 0..options.workers {
            let worker = namespace.worker(&format!("{namespace_name}-worker-{index}"))?;
            worker.set_parent(Some(parent.clone()))?;
            let (options, specs, done) = (&options, &specs, &done);
            threads.push(scope.spawn(move || {
                let result = run_worker(options, worker.as_ref(), specs, done);
                if result.is_err() {
                    // Stop the others and the progress display too.
                    done.store(true, Ordering::Relaxed);
                }
                result
            }));
        }
        let progress = show_progress(&specs, &done);
        let mut first_error = progress.err();
        for thread in threads {
            let result = thread.join().expect("worker thread panicked");
            if let Err(error) = result {
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    })?;
    let elapsed = started.elapsed();
    print_summary(namespace.as_ref(), elapsed)?;
    if !options.keep {
        namespace.destroy()?;
    }
    Ok(())
}
