//! The worker program behind `cargo xtask stress`: many of these processes
//! share one PostgreSQL database while the xtask breaks connections, kills
//! a process and restarts the server; afterwards `check` proves in SQL that
//! nothing was lost or handed out twice.
//!
//! ```text
//! DATABASE_URL=<conn> stress-worker load  --namespace <ns> --units <n>
//! DATABASE_URL=<conn> stress-worker work  --namespace <ns> --name <worker> [--threads <t>] [--seed <s>]
//! DATABASE_URL=<conn> stress-worker check --namespace <ns> --units <n> [--drop]
//! ```
//!
//! The connection string comes from `DATABASE_URL` (empty: libpq's `PG*`
//! variables), not from the command line, where `ps` and cargo's echo of
//! the command would show its password.
//!
//! Modes:
//!
//! - `load` defines the chained work specs `stage1` (with `then: stage2`)
//!   and `stage2`, and adds `n` units to `stage1`.
//! - `work` runs the worker runtime with `t` executors under the parent
//!   worker `<worker>` until every unit is finished or failed. Each job is
//!   finished (a `stage1` unit outputs one `stage2` unit), failed, retried
//!   after a short delay (at most once per unit) or ends in an error that
//!   the runtime retries with backoff, chosen by a seeded random
//!   generator. The runtime rides out backend outages; SIGTERM stops it
//!   gracefully. Prints its counters as one JSON line.
//! - `check` runs the invariant checks directly in SQL, prints the figures
//!   as one JSON line and exits with status 1 when any check fails.
//!
//! Times come from the system clock: these are real processes.

mod check;
mod counters;
mod failover;
mod work;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use coordinate_api::{Coordinate, Data, NewWorkUnit, Value, WorkUnitMeta};
use coordinate_postgres::PostgresCoordinate;

/// The first work spec; finishing one of its units makes a `stage2` unit.
const STAGE1: &str = "stage1";
/// The chained work spec.
const STAGE2: &str = "stage2";
/// Prefix of the `stage2` unit made from a `stage1` unit.
const OUTPUT_PREFIX: &str = "s2-";
/// Units written per `add_work_units` call while loading.
const LOAD_BATCH: usize = 1000;

/// Command-line settings shared by the modes (and the connection string
/// from the environment).
pub struct Options {
    mode: String,
    /// `DATABASE_URL`.
    backend: String,
    namespace: String,
    units: usize,
    /// Worker name of a `work` process (its threads' names derive from it).
    name: String,
    threads: usize,
    seed: u64,
    lease: Duration,
    /// How long a SIGTERM lets running handlers finish (work).
    grace: Duration,
    /// A `work` process gives up (exit status 3) after this long.
    deadline: Duration,
    /// `check` destroys the namespace when every check passed.
    drop: bool,
    /// `work`: the file to write acknowledged results to; `check`: the
    /// directory of such files (a failover run).
    acks: Option<std::path::PathBuf>,
    /// `check` of a failover run: when the primary was killed.
    kill_epoch_ms: Option<i64>,
    /// `check` of a failover run: replication was asynchronous, so lost
    /// acknowledgements are reported rather than counted as violations.
    asynchronous: bool,
    /// The transactional form (all modes): handlers finish in one
    /// transaction with a counter row of their own (`counters.rs`).
    transactional: bool,
}

const USAGE: &str = "\
usage: stress-worker <load|work|check> --namespace <ns> [options]

The server is the one in DATABASE_URL (empty: libpq's PG* variables).

  --units <n>        units in stage1 (load, check; default 2000)
  --name <worker>    parent worker name (work; default: worker-<pid>)
  --threads <t>      worker threads (work; default 4)
  --seed <s>         seed of the outcome generator (work; default 1)
  --lease-ms <ms>    lease per attempt (work; default 2000)
  --grace-ms <ms>    how long SIGTERM lets handlers finish (work; default 2000)
  --deadline-s <s>   give up after this long (work; default 600)
  --drop             destroy the namespace if every check passed (check)
  --acks <path>      write acknowledged results to this file (work), or check
                     the files in this directory (check; a failover run)
  --kill-epoch-ms <ms>  when the primary was killed (check; a failover run)
  --async            replication was asynchronous (check; a failover run)
  --transactional    handlers finish in one transaction with a counter row of
                     their own, which check counts (load, work, check)
";

fn parse_options() -> Result<Options> {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_default();
    if matches!(mode.as_str(), "" | "-h" | "--help") {
        print!("{USAGE}");
        std::process::exit(0);
    }
    let mut options = Options {
        mode,
        backend: String::new(),
        namespace: String::new(),
        units: 2000,
        name: format!("worker-{}", std::process::id()),
        threads: 4,
        seed: 1,
        lease: Duration::from_secs(2),
        grace: Duration::from_secs(2),
        deadline: Duration::from_secs(600),
        drop: false,
        acks: None,
        kill_epoch_ms: None,
        asynchronous: false,
        transactional: false,
    };
    while let Some(arg) = args.next() {
        let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--namespace" => options.namespace = value()?,
            "--units" => options.units = value()?.parse().context("--units")?,
            "--name" => options.name = value()?,
            "--threads" => options.threads = value()?.parse().context("--threads")?,
            "--seed" => options.seed = value()?.parse().context("--seed")?,
            "--lease-ms" => {
                options.lease = Duration::from_millis(value()?.parse().context("--lease-ms")?)
            }
            "--grace-ms" => {
                options.grace = Duration::from_millis(value()?.parse().context("--grace-ms")?)
            }
            "--deadline-s" => {
                options.deadline = Duration::from_secs(value()?.parse().context("--deadline-s")?)
            }
            "--drop" => options.drop = true,
            "--acks" => options.acks = Some(value()?.into()),
            "--kill-epoch-ms" => {
                options.kill_epoch_ms = Some(value()?.parse().context("--kill-epoch-ms")?)
            }
            "--async" => options.asynchronous = true,
            "--transactional" => options.transactional = true,
            other => bail!("unknown argument {other:?}\n\n{USAGE}"),
        }
    }
    options.backend = std::env::var("DATABASE_URL")
        .context("DATABASE_URL is required (empty for the PG* variables)")?;
    if options.namespace.is_empty() {
        bail!("--namespace is required");
    }
    if options.threads == 0 {
        bail!("--threads must be at least 1");
    }
    Ok(options)
}

fn main() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        // The stop's phases (signal received, stop begun, stopped) are
        // kept: the xtask times a SIGTERMed worker's exit.
        .unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new(
                "error,coordinate_api::runtime::signals=info,coordinate_api::runtime::shutdown=info",
            )
        });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    let result = parse_options().and_then(|options| match options.mode.as_str() {
        "load" => load(&options).map(|()| ExitCode::SUCCESS),
        "work" => work::run(&options),
        "check" => check::run(&options),
        other => bail!("unknown mode {other:?}\n\n{USAGE}"),
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("stress-worker: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// A text CBOR value.
fn text(value: &str) -> Value {
    Value::Text(value.to_owned())
}

/// Defines the two chained work specs and adds the `stage1` units.
fn load(options: &Options) -> Result<()> {
    let coordinate: Arc<dyn Coordinate> =
        Arc::new(PostgresCoordinate::new(&options.backend).context("connecting")?);
    if options.transactional {
        counters::create(&mut check::connect(&options.backend)?)?;
    }
    let namespace = coordinate.namespace(&options.namespace)?;
    let mut first = Data::new();
    first.insert("name".into(), text(STAGE1));
    first.insert("then".into(), text(STAGE2));
    let mut second = Data::new();
    second.insert("name".into(), text(STAGE2));
    let stage1 = namespace.set_work_spec(first)?;
    namespace.set_work_spec(second)?;
    let names: Vec<String> = (0..options.units).map(|i| format!("u{i:06}")).collect();
    for chunk in names.chunks(LOAD_BATCH) {
        let units = chunk
            .iter()
            .map(|name| NewWorkUnit {
                name: name.clone(),
                data: Data::new(),
                meta: WorkUnitMeta::default(),
            })
            .collect();
        stage1.add_work_units(units)?;
    }
    println!("{{\"loaded\":{}}}", options.units);
    Ok(())
}
