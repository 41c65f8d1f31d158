//! `cargo xtask bench`: throughput and scale of both backends, measured
//! against what the same PostgreSQL server does with raw SQL (pgbench).
//!
//! Run through `cargo xtask bench [--quick]`, which provides a server; by
//! hand: `cargo bench -p coordinate-postgres --bench throughput --
//! --backend <connection string> [--quick] [--out <path>]`. Without
//! `--backend` only the memory backend runs; without `--coordinated
//! <path>` (the server binary, which `cargo xtask bench` builds) the `rest`
//! rows are skipped. Prints a table and writes JSON (default
//! `target/bench/results.json`).

mod api;
mod cancel;
mod coordinated;
mod cpu;
mod dashboard;
mod load;
mod memory;
mod pg;
mod profile;
mod prune;
mod reference;
mod report;
mod reps;
mod rest;
mod rss;
mod runs;
mod runtime;
mod scale;
mod scripts;
mod targets;
mod tx;
mod wakeup;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use coordinate_api::Coordinate;
use coordinate_postgres::PostgresCoordinate;

use crate::api::Measured;
use crate::report::{percentiles, Row, RunInfo};

/// Sizes of one run.
pub struct Config {
    /// Connection string; empty with `--backend ''` means libpq's
    /// environment. `None`-like: see `postgres`.
    pub backend: String,
    /// Whether the PostgreSQL parts run at all.
    pub postgres: bool,
    /// `--quick`.
    pub quick: bool,
    /// `--only`: the sections to run (all when empty).
    pub only: Vec<String>,
    /// `--reps`: how many times the claims and runtime rows run,
    /// interleaved, reported as their medians (see `reps`).
    pub reps: usize,
    /// Where the JSON goes.
    pub out: PathBuf,
    /// `--pooled-env`: the same server through PgBouncer in transaction
    /// mode, for the pooled rows.
    pub pooler: Option<String>,
    /// `--pooled-skipped`: why the caller gives no `--pooled-env`, for the
    /// report's note on the pooled rows.
    pub pooled_skipped: Option<String>,
    /// `--coordinated`: the `coordinated` binary the `rest` rows go
    /// through.
    pub coordinated: Option<PathBuf>,
    /// Seconds of the `rest` load row.
    pub load_seconds: u64,
    /// Units preloaded per pgbench run.
    pub reference_units: u64,
    /// Seconds per pgbench run.
    pub reference_seconds: u64,
    /// Whether to run the go-coordinate replay too.
    pub go_script: bool,
    /// Units per API claim + finish run.
    pub claim_units: u64,
    /// Units per `add_work_unit` run.
    pub add_units: u64,
    /// Units per `add_work_units` run.
    pub batch_add_units: u64,
    /// Timed cycles per scale row.
    pub scale_cycles: u64,
    /// The deep queue and the long history.
    pub scale_deep: u64,
    /// Units per memory backend run.
    pub memory_units: u64,
}

const USAGE: &str = "\
usage: throughput [--backend <connection string> | --backend-env <variable>] [--quick]
                  [--out <path>] [--no-go] [--pooled-env <variable>]
                  [--pooled-skipped <reason>] [--coordinated <path>]
                  [--only <section>]... [--reps <n>]

Without --backend, only the memory backend is measured. Sections: claims
(pgbench references, API claim+finish, lease renewal), runtime (the worker
runtime, its stop and its wake-up), pooled (claim+finish through the
PgBouncer of --pooled-env; without it they are skipped, with the reason
of --pooled-skipped in the notes), rest (claim+finish through the coordinated
binary of --coordinated, beside the claims rows, and 256 clients on one
server; without --coordinated they are skipped), add, scale, prune (history
retention beside claims), tx (adding and completing in the caller's
transaction, beside add and claims), wakeup, cancel (a running handler cancelled from
outside), dashboard (coordinated's pages with 1,000,000 units, and the summary
behind them; needs --coordinated), memory, profile. --reps N runs the
claims and runtime rows of every concurrency N times, interleaved, and
reports each row and each target's ratio as the median of the N.";

fn config() -> Result<Config> {
    let mut backend = None;
    let mut quick = false;
    let mut go_script = true;
    let mut only = Vec::new();
    let mut reps = 1;
    let mut out = PathBuf::from("target/bench/results.json");
    let mut pooler = None;
    let mut pooled_skipped = None;
    let mut coordinated = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--backend" => backend = Some(args.next().context("--backend needs a value")?),
            "--backend-env" => {
                let name = args.next().context("--backend-env needs a variable")?;
                let conn = std::env::var(&name)
                    .with_context(|| format!("--backend-env: {name} is not set"))?;
                backend = Some(conn);
            }
            "--pooled-env" => {
                let name = args.next().context("--pooled-env needs a variable")?;
                let conn = std::env::var(&name)
                    .with_context(|| format!("--pooled-env: {name} is not set"))?;
                pooler = Some(conn);
            }
            "--pooled-skipped" => {
                pooled_skipped = Some(args.next().context("--pooled-skipped needs a reason")?);
            }
            "--coordinated" => {
                let path = args.next().context("--coordinated needs a path")?;
                coordinated = Some(PathBuf::from(path));
            }
            "--quick" => quick = true,
            "--no-go" => go_script = false,
            "--only" => only.push(args.next().context("--only needs a section")?),
            "--reps" => {
                let value = args.next().context("--reps needs a count")?;
                reps =
                    value.parse().ok().filter(|n| *n >= 1).with_context(|| {
                        format!("--reps wants a count of 1 or more, not {value:?}")
                    })?;
            }
            "--out" => out = PathBuf::from(args.next().context("--out needs a value")?),
            // cargo bench passes --bench to every bench target.
            "--bench" => {}
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?}\n{USAGE}"),
        }
    }
    let pick = |quick_value, full_value| if quick { quick_value } else { full_value };
    Ok(Config {
        postgres: backend.is_some(),
        backend: backend.unwrap_or_default(),
        quick,
        only,
        reps,
        out,
        pooler,
        pooled_skipped,
        coordinated,
        load_seconds: pick(10, 60),
        reference_units: pick(30_000, 100_000),
        reference_seconds: pick(3, 10),
        go_script,
        claim_units: pick(2_000, 20_000),
        add_units: pick(1_000, 5_000),
        batch_add_units: pick(20_000, 100_000),
        scale_cycles: pick(300, 2_000),
        scale_deep: pick(100_000, 1_000_000),
        memory_units: pick(50_000, 200_000),
    })
}

impl Config {
    /// Whether `--only` lets `section` run.
    pub fn runs(&self, section: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|s| s == section)
    }
}

/// What a run cost beside its time: this process's peak memory and the
/// machine's CPU.
pub struct Footprint {
    /// Peak resident memory of this process during the run, in MiB.
    pub peak_rss_mib: Option<f64>,
    /// CPU spent during the run.
    pub cpu: Option<cpu::Cpu>,
}

impl Footprint {
    /// For rows that measure latency, not a drain: nothing recorded.
    pub fn unrecorded() -> Footprint {
        Footprint {
            peak_rss_mib: None,
            cpu: None,
        }
    }
}

/// Runs `work` with the peak RSS reset before, returning its result and
/// its footprint.
pub fn measure(work: impl FnOnce() -> Result<Measured>) -> Result<(Measured, Footprint)> {
    rss::reset_peak();
    let start = cpu::Ticks::now();
    let measured = work()?;
    let footprint = Footprint {
        peak_rss_mib: rss::peak_mib(),
        cpu: start.and_then(cpu::Cpu::since),
    };
    Ok((measured, footprint))
}

/// A row from a measurement.
pub fn row(
    key: String,
    what: String,
    threads: usize,
    batch: usize,
    measured: &Measured,
    footprint: Footprint,
) -> Row {
    let mut latencies = measured.latencies.clone();
    let (p50_ms, p99_ms) = percentiles(&mut latencies);
    Row {
        key,
        what,
        threads,
        batch,
        units: measured.units,
        seconds: measured.elapsed.as_secs_f64(),
        p50_ms,
        p99_ms,
        peak_rss_mib: footprint.peak_rss_mib,
        cpu: footprint.cpu,
        vs_reference: None,
        targets: Vec::new(),
    }
}

/// Prints the newest row to stderr, so a long run shows progress.
pub fn progress(rows: &[Row]) {
    if let Some(row) = rows.last() {
        eprintln!(
            "bench: {:<18} {:>10.0} units/s  p50 {} ms  p99 {} ms",
            row.key,
            row.rate(),
            row.p50_ms.map_or("-".into(), |v| format!("{v:.3}")),
            row.p99_ms.map_or("-".into(), |v| format!("{v:.3}")),
        );
    }
}

/// Measures everything PostgreSQL; the claims and runtime rows go into
/// `repeated`, one list per repetition, the rest into `rows`.
fn postgres(
    config: &Config,
    rows: &mut Vec<Row>,
    repeated: &mut Vec<Vec<Row>>,
    info: &mut RunInfo,
) -> Result<()> {
    let mut conn = pg::connect(&config.backend)?;
    let (version, durability) = pg::server_facts(&mut conn)?;
    eprintln!("bench: PostgreSQL {version}, {durability}");
    info.server_version = Some(version);
    info.durability = Some(durability);
    // Enough connections for the most workers plus a spare.
    let coordinate: Arc<dyn Coordinate> = Arc::new(
        PostgresCoordinate::builder(&config.backend)
            .pool_size(10)
            .build()?,
    );
    let rest = if config.runs("rest") {
        rest::launcher(config, info)
    } else {
        None
    };
    let mut served = rest.as_ref().map(rest::serve).transpose()?;
    // Each concurrency level's reference, API and REST figures are
    // measured back to back, so that their ratios see the same machine
    // conditions.
    for rep in 0..config.reps {
        if config.reps > 1 {
            eprintln!("bench: repetition {} of {}", rep + 1, config.reps);
        }
        let mut rep_rows = Vec::new();
        for threads in [1, 4, 8] {
            if config.runs("claims") {
                reference::run(config, &coordinate, &mut conn, threads, &mut rep_rows)?;
            }
            if config.runs("claims") || served.is_some() {
                runs::claims(
                    config,
                    &coordinate,
                    served.as_mut(),
                    &mut conn,
                    threads,
                    &mut rep_rows,
                )?;
            }
            if config.runs("runtime") {
                runtime::throughput(config, &coordinate, &mut conn, threads, &mut rep_rows)?;
            }
        }
        repeated.push(rep_rows);
    }
    if config.runs("claims") {
        runs::renewals(&coordinate, rows)?;
    }
    // The claim rows' server stops here, its notes kept: the load row
    // starts one of its own, whose peak memory is the load's alone.
    if let Some(served) = served {
        info.notes.extend(served.notes);
    }
    if let Some(launcher) = &rest {
        load::run(config, &coordinate, launcher, &mut conn, rows, info)?;
    }
    if config.runs("dashboard") {
        match config
            .coordinated
            .as_deref()
            .map(|program| crate::coordinated::Launcher::new(program, &config.backend))
        {
            Some(Ok(launcher)) => dashboard::run(&coordinate, &launcher, &mut conn, rows)?,
            Some(Err(why)) => info.notes.push(format!("dashboard rows skipped: {why}")),
            None => info.notes.push(
                "dashboard rows skipped: no --coordinated <path> (`cargo xtask bench` builds \
                 the server and passes it)"
                    .into(),
            ),
        }
    }
    if !config.runs("pooled") {
        // Left out on purpose.
    } else if let Some(pooler) = &config.pooler {
        let pooled: Arc<dyn Coordinate> = Arc::new(
            PostgresCoordinate::builder(pooler)
                .pool_size(10)
                .transaction_pooling(true)
                .listener_url(&config.backend)
                .build()?,
        );
        runs::pooled_claims(config, &pooled, &mut conn, rows)?;
    } else {
        // A missing row must not read as a forgotten one: say why.
        let why = config
            .pooled_skipped
            .as_deref()
            .unwrap_or("no --pooled-env");
        info.notes.push(format!(
            "pooled rows (claim+finish through PgBouncer) skipped: {why}"
        ));
    }
    if config.runs("runtime") {
        runtime::drain(&coordinate, rows)?;
        runtime::wakeup(&coordinate, rows)?;
        runtime::long_drain(config, &coordinate, &mut conn, rows)?;
    }
    if config.runs("add") {
        runs::adds(config, &coordinate, rows)?;
    }
    if config.runs("tx") {
        tx::run(config, &coordinate, rows)?;
    }
    if config.runs("scale") {
        scale::run(config, &coordinate, &mut conn, rows)?;
    }
    if config.runs("prune") {
        prune::run(config, &coordinate, &mut conn, rows)?;
    }
    if config.runs("wakeup") {
        wakeup::run(config, rows)?;
    }
    if config.runs("cancel") {
        cancel::run(config, rows)?;
    }
    if !config.runs("profile") {
        // Left out on purpose.
    } else if profile::available(&mut conn) {
        let profiles = profile::run(&coordinate, &mut conn, 201)?;
        info.notes.push(format!(
            "statement profile (pg_stat_statements):\n{}",
            profile::describe(&profiles)
        ));
    } else {
        info.notes
            .push("pg_stat_statements not preloaded: no statement profile".into());
    }
    Ok(())
}

/// Checks every target: each repetition's rows against one another and
/// the other rows, folded into medians (see `reps`); then the other rows
/// against those medians. A single repetition is just one run.
fn evaluate(rows: &mut Vec<Row>, repeated: &[Vec<Row>]) {
    let evaluated: Vec<Vec<Row>> = repeated
        .iter()
        .map(|rep_rows| {
            let mut all = rep_rows.clone();
            all.extend(rows.iter().cloned());
            targets::evaluate(&mut all);
            all.truncate(rep_rows.len());
            all
        })
        .collect();
    let folded = if evaluated.len() == 1 {
        evaluated.into_iter().next().unwrap_or_default()
    } else {
        reps::median(&evaluated)
    };
    let mut all = folded.clone();
    all.append(rows);
    targets::evaluate(&mut all);
    // The repeated rows keep what their own repetitions said of them.
    all.splice(..folded.len(), folded);
    *rows = all;
}

fn main() -> Result<()> {
    let config = config()?;
    let started = Instant::now();
    let mut rows = Vec::new();
    let mut info = RunInfo {
        quick: config.quick,
        server_version: None,
        durability: None,
        notes: Vec::new(),
    };
    // Other work on the machine skews every figure; record how busy it was.
    let load = || {
        std::fs::read_to_string("/proc/loadavg")
            .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|_| "unknown".into())
    };
    let load_before = load();
    let mut repeated = Vec::new();
    if config.postgres {
        postgres(&config, &mut rows, &mut repeated, &mut info)?;
    } else {
        info.notes
            .push("no --backend: PostgreSQL rows skipped".into());
    }
    if !config.go_script {
        info.notes
            .push("--no-go: go-coordinate replay skipped".into());
    }
    if config.runs("memory") {
        memory::run(&config, &mut rows)?;
    }
    info.notes.push(format!(
        "load average (1/5/15 min) at start: {load_before}; at end: {}; CPUs: {}",
        load(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    ));
    evaluate(&mut rows, &repeated);
    report::sort(&mut rows);
    println!("\n{}", report::table(&rows));
    for note in &info.notes {
        println!("{note}");
    }
    report::write_json(&config.out, &info, &rows)?;
    println!(
        "wrote {} ({:.0} s)",
        config.out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
