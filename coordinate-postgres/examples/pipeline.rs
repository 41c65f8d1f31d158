//! A two-stage pipeline: "fetch" units produce "parse" units through
//! `then`, worked off by the worker runtime.
//!
//! ```text
//! cargo run -p coordinate-postgres --example pipeline             # in memory
//! cargo run -p coordinate-postgres --example pipeline -- \
//!     --backend postgres://user:secret@localhost/coordinate        # PostgreSQL
//! cargo run -p coordinate-postgres --example pipeline -- --help
//! ```
//!
//! The worker runtime runs both specs' handlers. Some units fail, some ask
//! to be retried after a delay, and a few are slow enough that the
//! runtime renews their leases while they work. Progress
//! bars follow each work spec; at the end the namespace summary and the
//! throughput are printed and the namespace is destroyed.
//!
//! Ctrl-C or SIGTERM stops it cleanly: no new claims, running handlers get
//! the grace period (`--grace-ms`) to finish, unstarted and unfinished
//! units are given back at once, and the namespace is kept with the work
//! left in it, for the next run or for a look with the `coordinate`
//! command. A second signal stops at once.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use coordinate_api::definition::WorkSpecDefinition;
use coordinate_api::runtime::{signals, Job, JobError, JobOutcome, Runtime};
use coordinate_api::{Coordinate, Data, Namespace, Value, WorkSpec, WorkUnitMeta, WorkUnitStatus};
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
  --grace-ms <ms>        after Ctrl-C or SIGTERM, how long running units may
                         finish before they are given back (default 5000)
  --keep                 keep the namespace afterwards
";

/// Lease of each attempt; the runtime renews it while slow units work.
const LEASE: Duration = Duration::from_secs(30);
/// How long a unit asked to be retried waits before it is offered again.
const RETRY_DELAY: Duration = Duration::from_millis(300);
/// The progress display's shortest refresh interval.
const DISPLAY_EVERY: Duration = Duration::from_millis(100);
/// Units claimed beyond the free executors, so one claim serves several.
const PREFETCH: usize = 16;

struct Options {
    backend: Option<String>,
    units: usize,
    workers: usize,
    fail_percent: f64,
    retry_percent: f64,
    work: Duration,
    grace: Duration,
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
        grace: Duration::from_secs(5),
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
            "--grace-ms" => {
                options.grace = Duration::from_millis(value()?.parse().context("--grace-ms")?)
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

/// What the handlers need from the command line.
struct Simulation {
    fail_percent: f64,
    retry_percent: f64,
    work: Duration,
}

/// Both specs' work: sleep for the simulated time (twice on slow units,
/// whose leases the runtime renews meanwhile), then fail, ask for a retry
/// or finish; a finished fetch names its parse unit in `output`.
fn work_on(simulation: &Simulation, job: &Job) -> Result<JobOutcome, JobError> {
    let slow = job.work_unit_name().ends_with('7');
    job.sleep(simulation.work * if slow { 2 } else { 1 })?;
    let roll: f64 = rand::rng().random_range(0.0..100.0);
    if roll < simulation.fail_percent {
        return Ok(JobOutcome::fail("simulated failure"));
    }
    let is_fetch = job.work_spec_name() == "fetch";
    // Retry each unit at most once, so the run always ends.
    if is_fetch
        && roll < simulation.fail_percent + simulation.retry_percent
        && job.attempt_number()? == 1
    {
        return Ok(JobOutcome::retry_after(RETRY_DELAY));
    }
    if !is_fetch {
        return Ok(JobOutcome::finish());
    }
    let mut parse_data = BTreeMap::new();
    parse_data.insert(text("source"), text(job.work_unit_name()));
    let mut output = BTreeMap::new();
    output.insert(
        text(&format!("parsed-{}", job.work_unit_name())),
        Value::Map(parse_data),
    );
    let mut data = job.data()?.clone();
    data.insert("output".into(), Value::Map(output));
    Ok(JobOutcome::finish_with(data))
}

fn text(value: &str) -> Value {
    Value::Text(value.to_owned())
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

/// Redraws one progress bar per spec until no unit is left open, or
/// until `stopped` (a signal stopped the runtime).
fn show_progress(specs: &[Arc<dyn WorkSpec>], stopped: impl Fn() -> bool) -> Result<()> {
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
        let refreshing = Instant::now();
        let mut open = false;
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
            open |= has_open_units(spec.as_ref())?;
        }
        // Parse units come only from finished fetches, so once nothing is
        // open anywhere, nothing will be.
        if !open || stopped() {
            spec_bars.iter().for_each(ProgressBar::finish);
            return Ok(());
        }
        // Counting reads every unit of the specs, so it grows with them:
        // refresh at most every 100 ms, and rarely enough that the display
        // keeps one connection busy at most 5 % of the time.
        thread::sleep(DISPLAY_EVERY.max(refreshing.elapsed() * 19));
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
    let fetch = namespace.set_work_spec(WorkSpecDefinition::new("fetch").then("parse").into())?;
    let parse = namespace.set_work_spec(WorkSpecDefinition::new("parse").into())?;
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

    let simulation = Arc::new(Simulation {
        fail_percent: options.fail_percent,
        retry_percent: options.retry_percent,
        work: options.work,
    });
    let handler = move |job: &Job| work_on(&simulation, job);
    let started = Instant::now();
    // The runtime's parent worker stands for this process and each
    // executor is a child, so an operator sees the process in one place.
    let runtime = Runtime::builder(namespace.clone())
        .handler("fetch", handler.clone())
        .handler("parse", handler)
        .concurrency(options.workers)
        .prefetch(PREFETCH)
        .lease(LEASE)
        .grace(options.grace)
        .worker_name(format!("{namespace_name}-parent"))
        .start()?;
    // Ctrl-C or SIGTERM: stop claiming, let running units finish within the
    // grace, give back the rest.
    let signals = signals::stop_on_signals(runtime.stopper())?;
    let progress = show_progress(&[fetch, parse], || runtime.is_stopped());
    let interrupted = runtime.is_stopped();
    runtime.shutdown();
    let report = runtime.wait();
    signals.close();
    progress?;
    println!(
        "runtime: {} finished, {} failed, {} retried, {} lost leases",
        report.totals.finished,
        report.totals.failed,
        report.totals.retried,
        report.totals.lost_leases
    );
    let elapsed = started.elapsed();
    print_summary(namespace.as_ref(), elapsed)?;
    if interrupted {
        println!("stopped by a signal: namespace {namespace_name} kept with the work left in it");
    } else if !options.keep {
        namespace.destroy()?;
    }
    Ok(())
}
