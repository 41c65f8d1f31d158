//! The worker runtime's rows: no-op handlers at 1, 4 and 8 executors with
//! batched and immediate completion (beside the raw reference and the
//! hand-written loops of the same run), the time a graceful stop takes
//! with 4 busy executors, and wake-up from an add's commit to a handler
//! starting on an idle runtime.

use std::collections::BTreeMap;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use coordinate_api::definition::WorkSpecDefinition;
use coordinate_api::runtime::{CompletionMode, Job, JobOutcome, Runtime};
use coordinate_api::{Coordinate, Data, Value, WorkUnitMeta, WorkUnitStatus};
use diesel::pg::PgConnection;

use crate::api::{fresh_spec, preload, Measured};
use crate::pg;
use crate::report::Row;
use crate::Config;

/// The runtime's parent worker in these rows.
const WORKER: &str = "bench-runtime";
/// Units claimed beyond the free executors in batched mode: as many as a
/// completion batch, so claims and completions both go 100 at a time.
const BATCHED_PREFETCH: usize = 100;
/// The grace of the stop row; handlers outlast it.
const DRAIN_GRACE: Duration = Duration::from_secs(1);
/// Wake-up samples.
const WAKE_SAMPLES: u64 = 200;

fn no_op(_: &Job) -> Result<JobOutcome, coordinate_api::runtime::JobError> {
    Ok(JobOutcome::finish())
}

/// A handler as real ones are: it reads its unit's data and chains one
/// unit into the next work spec.
fn reads_and_chains(job: &Job) -> Result<JobOutcome, coordinate_api::runtime::JobError> {
    let data = job.data()?;
    let mut next = BTreeMap::new();
    next.insert(
        Value::Text(format!("{}-next", job.work_unit_name())),
        Value::Map(
            data.iter()
                .map(|(k, v)| (Value::Text(k.clone()), v.clone()))
                .collect(),
        ),
    );
    let mut output = Data::new();
    output.insert("output".into(), Value::Map(next));
    Ok(JobOutcome::finish_with(output))
}

/// Drains `config.claim_units` units with no-op handlers on `threads`
/// executors, once with batched and once with immediate completion; at 4
/// executors also with handlers that read their data and chain a unit
/// (`runtime/batched-data/w4`, issue 23: what a real handler costs).
pub fn throughput(
    config: &Config,
    coordinate: &Arc<dyn Coordinate>,
    conn: &mut PgConnection,
    threads: usize,
    rows: &mut Vec<Row>,
) -> Result<()> {
    let units = config.claim_units;
    for (label, mode, prefetch, chains) in [
        (
            "batched",
            CompletionMode::default(),
            BATCHED_PREFETCH,
            false,
        ),
        // One unit in hand per executor, so a claim overlaps the finishes
        // as the hand loop's threads overlap theirs.
        ("immediate", CompletionMode::Immediate, threads, false),
        (
            "batched-data",
            CompletionMode::default(),
            BATCHED_PREFETCH,
            true,
        ),
    ] {
        if chains && threads != 4 {
            continue;
        }
        let (namespace, spec) = fresh_spec(coordinate, "runtime")?;
        let next = if chains {
            namespace.set_work_spec(WorkSpecDefinition::new("spec").then("next").into_data())?;
            Some(namespace.set_work_spec(WorkSpecDefinition::new("next").into_data())?)
        } else {
            None
        };
        preload(&spec, "u", units)?;
        namespace.worker(WORKER)?;
        let (spec_id, _) = pg::ids(conn, namespace.name(), "spec", WORKER)?;
        pg::vacuum(conn)?;
        let handler = if chains { reads_and_chains } else { no_op };
        let (measured, footprint) =
            crate::measure(|| drain_with(&namespace, handler, units, threads, prefetch, mode))?;
        pg::verify(conn, spec_id, units as i64, 0)?;
        if let Some(next) = next {
            let chained = next.count_work_unit_status()?.values().sum::<usize>();
            if chained as u64 != units {
                bail!("{units} units chained {chained} into the next spec");
            }
        }
        let handlers = if chains {
            "handlers read their data and chain one unit"
        } else {
            "no-op handlers"
        };
        rows.push(crate::row(
            format!("runtime/{label}/w{threads}"),
            format!(
                "postgres: worker runtime, {handlers}, {} completion, prefetch {prefetch}",
                if matches!(mode, CompletionMode::Immediate) {
                    "immediate"
                } else {
                    "batched"
                }
            ),
            threads,
            prefetch.max(1),
            &measured,
            footprint,
        ));
        crate::progress(rows);
        namespace.destroy()?;
    }
    Ok(())
}

/// A handler the runtime rows run.
type RowHandler = fn(&Job) -> Result<JobOutcome, coordinate_api::runtime::JobError>;

/// Runs a runtime on `namespace`'s `spec` until `units` are finished.
fn drain_with(
    namespace: &Arc<dyn coordinate_api::Namespace>,
    handler: RowHandler,
    units: u64,
    threads: usize,
    prefetch: usize,
    mode: CompletionMode,
) -> Result<Measured> {
    let started = Instant::now();
    let runtime = Runtime::builder(namespace.clone())
        .handler("spec", handler)
        .concurrency(threads)
        .prefetch(prefetch)
        .completion(mode)
        .worker_name(WORKER)
        .start()?;
    while runtime.stats().finished < units {
        if runtime.stats().refused + runtime.stats().failed > 0 {
            bail!("the runtime lost results: {:?}", runtime.stats());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let elapsed = started.elapsed();
    runtime.shutdown();
    runtime.wait();
    Ok(Measured {
        units,
        elapsed,
        latencies: Vec::new(),
    })
}

/// Issue 23: a long drain (1,000,000 units; 100,000 quick) by the batched
/// runtime at 4 executors, for its peak memory beside the short rows' and
/// the commits per unit the server counted (read-only transactions
/// included, as `pg_stat_database` counts them).
pub fn long_drain(
    config: &Config,
    coordinate: &Arc<dyn Coordinate>,
    conn: &mut PgConnection,
    rows: &mut Vec<Row>,
) -> Result<()> {
    let units = if config.quick { 100_000 } else { 1_000_000 };
    let (namespace, spec) = fresh_spec(coordinate, "runtime-long")?;
    preload(&spec, "u", units)?;
    namespace.worker(WORKER)?;
    let (spec_id, _) = pg::ids(conn, namespace.name(), "spec", WORKER)?;
    pg::vacuum(conn)?;
    let commits_before = pg::commits(conn)?;
    let (measured, footprint) = crate::measure(|| {
        drain_with(
            &namespace,
            no_op,
            units,
            4,
            BATCHED_PREFETCH,
            CompletionMode::default(),
        )
    })?;
    let commits = pg::commits(conn)? - commits_before;
    pg::verify(conn, spec_id, units as i64, 0)?;
    rows.push(crate::row(
        "runtime/long/w4".into(),
        format!(
            "postgres: worker runtime, {units} units, no-op handlers, batched completion, \
             prefetch {BATCHED_PREFETCH} ({:.3} commits/unit; its peak RSS beside \
             runtime/batched/w4's shows whether the runtime's memory grows)",
            commits as f64 / units as f64
        ),
        4,
        BATCHED_PREFETCH,
        &measured,
        footprint,
    ));
    crate::progress(rows);
    namespace.destroy()?;
    Ok(())
}

/// How long a graceful stop takes with 4 executors whose handlers outlast
/// the grace: the row's p50 is that time.
pub fn drain(coordinate: &Arc<dyn Coordinate>, rows: &mut Vec<Row>) -> Result<()> {
    let (namespace, spec) = fresh_spec(coordinate, "drain")?;
    preload(&spec, "u", 8)?;
    let runtime = Runtime::builder(namespace.clone())
        .handler("spec", |job: &Job| {
            job.sleep(Duration::from_secs(60))?;
            Ok(JobOutcome::finish())
        })
        .concurrency(4)
        .grace(DRAIN_GRACE)
        .worker_name(WORKER)
        .start()?;
    let waiting = Instant::now();
    while runtime.stats().running < 4 {
        if waiting.elapsed() > Duration::from_secs(30) {
            bail!("the 4 executors never got busy");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let asked = Instant::now();
    runtime.shutdown();
    let report = runtime.wait();
    let took = asked.elapsed();
    let counts = spec.count_work_unit_status()?;
    let pending = counts.get(&WorkUnitStatus::Pending).copied().unwrap_or(0);
    if pending != 0 || report.totals.released != 4 {
        bail!("after the stop {pending} units are pending, {report:?}");
    }
    rows.push(crate::row(
        "runtime/drain/w4".into(),
        format!(
            "postgres: graceful stop, 4 busy executors, grace {DRAIN_GRACE:?} (p50 = the stop)"
        ),
        4,
        1,
        &Measured {
            units: 4,
            elapsed: took,
            latencies: vec![took],
        },
        crate::Footprint::unrecorded(),
    ));
    crate::progress(rows);
    namespace.destroy()?;
    Ok(())
}

/// From an add's commit (the moment `add_work_unit` returns) to the
/// handler starting, on an idle runtime whose poll interval is far longer
/// than any wake-up, so only `LISTEN` can explain a fast start.
pub fn wakeup(coordinate: &Arc<dyn Coordinate>, rows: &mut Vec<Row>) -> Result<()> {
    let (namespace, spec) = fresh_spec(coordinate, "runtime-wake")?;
    let (started_tx, started) = mpsc::channel::<Instant>();
    let started_tx = std::sync::Mutex::new(started_tx);
    let runtime = Runtime::builder(namespace.clone())
        .handler("spec", move |_: &Job| {
            let _ = started_tx.lock().unwrap().send(Instant::now());
            Ok(JobOutcome::finish())
        })
        .concurrency(1)
        .poll_interval(Duration::from_secs(10))
        .worker_name(WORKER)
        .start()?;
    // Let the first poll find nothing and settle into waiting.
    std::thread::sleep(Duration::from_millis(300));
    let mut latencies = Vec::new();
    let began = Instant::now();
    for i in 0..WAKE_SAMPLES {
        spec.add_work_unit(&format!("w{i:05}"), Data::new(), WorkUnitMeta::default())?;
        let added = Instant::now();
        let handler_start = started.recv_timeout(Duration::from_secs(20))?;
        latencies.push(handler_start.saturating_duration_since(added));
        // Back to idle: the result sent, the dispatcher waiting again.
        std::thread::sleep(Duration::from_millis(20));
    }
    let elapsed = began.elapsed();
    runtime.shutdown();
    runtime.wait();
    rows.push(crate::row(
        "wake/runtime".into(),
        "postgres: add commit -> handler start, idle runtime, LISTEN".into(),
        1,
        1,
        &Measured {
            units: WAKE_SAMPLES,
            elapsed,
            latencies,
        },
        crate::Footprint::unrecorded(),
    ));
    crate::progress(rows);
    namespace.destroy()?;
    Ok(())
}
