//! pgbench runs on the same server: the raw-SQL claim + finish reference
//! and the replay of go-coordinate's statements, at 1, 4 and 8 clients.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use coordinate_api::Coordinate;
use coordinate_postgres::test_support::session_settings;
use diesel::pg::PgConnection;

use crate::api::{fresh_spec, preload};
use crate::cpu;
use crate::pg;
use crate::report::Row;
use crate::{scripts, Config};

/// The `pgbench` binary: on `PATH`, else the newest
/// `/usr/lib/postgresql/*/bin/pgbench`.
pub fn find_pgbench() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    if let Some(found) = std::env::split_paths(&path)
        .map(|d| d.join("pgbench"))
        .find(|p| p.is_file())
    {
        return Some(found);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path())))
        .map(|(v, p): (u32, PathBuf)| (v, p.join("bin/pgbench")))
        .filter(|(_, p)| p.is_file())
        .collect();
    versions.sort();
    versions.pop().map(|(_, p)| p)
}

/// What one pgbench run reported.
struct Outcome {
    processed: u64,
    tps: f64,
    latency_ms: Option<f64>,
}

fn parse(output: &str) -> Result<Outcome> {
    let after = |prefix: &str| {
        output.lines().find_map(|l| {
            l.trim()
                .strip_prefix(prefix)
                .map(str::trim)
                .map(str::to_owned)
        })
    };
    let processed = after("number of transactions actually processed:")
        .and_then(|v| v.split(['/', ' ']).next()?.parse().ok())
        .context("pgbench printed no transaction count")?;
    let tps = after("tps =")
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .context("pgbench printed no tps")?;
    let latency_ms =
        after("latency average =").and_then(|v| v.split_whitespace().next()?.parse().ok());
    if let Some(failed) = after("number of failed transactions:") {
        if !failed.starts_with('0') {
            bail!("pgbench reports failed transactions: {failed}");
        }
    }
    Ok(Outcome {
        processed,
        tps,
        latency_ms,
    })
}

/// The library's session settings (`db/session.rs`) as pgbench options.
/// The reference sessions get them too: without `enable_seqscan = off`, a
/// pgbench session that first checked the foreign key from `work_unit` to
/// `attempt` while `attempt` was nearly empty kept a sequential-scan plan
/// for that check through its run, and a first run on a fresh queue spent
/// 250-750 µs of CPU a unit instead of 70-100 (3,000 units/s instead of
/// 20,000 at 4 clients, issue 23).
fn library_session() -> String {
    session_settings()
        .iter()
        .map(|(name, value)| format!("-c {name}={value}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// One pgbench run of `script` with `clients` clients for `seconds`, its
/// sessions given `options` (as `PGOPTIONS`) if any.
fn pgbench(
    config: &Config,
    pgbench: &Path,
    script: &Path,
    clients: usize,
    length: Length,
    vars: &[(&str, i32)],
    options: Option<&str>,
) -> Result<Outcome> {
    let mut command = Command::new(pgbench);
    command.args(["-n", "-M", "prepared", "-f"]).arg(script);
    command.args(["-c", &clients.to_string(), "-j", &clients.to_string()]);
    match length {
        Length::Seconds(seconds) => command.args(["-T", &seconds.to_string()]),
        Length::PerClient(transactions) => command.args(["-t", &transactions.to_string()]),
    };
    for (name, value) in vars {
        command.args(["-D", &format!("{name}={value}")]);
    }
    if let Some(options) = options {
        // After the user's own, which they stay free to set.
        let mut all = std::env::var("PGOPTIONS").unwrap_or_default();
        all.push(' ');
        all.push_str(options);
        command.env("PGOPTIONS", all.trim_start());
    }
    if !config.backend.is_empty() {
        command.arg(&config.backend);
    }
    let output = command.output().context("running pgbench")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        // The password may be in the connection string; pgbench does not
        // print it, and we print only pgbench's own output.
        bail!("pgbench failed ({}): {stdout}\n{stderr}", output.status);
    }
    parse(&stdout).with_context(|| format!("reading pgbench output:\n{stdout}\n{stderr}"))
}

/// How long a pgbench run lasts.
#[derive(Clone, Copy)]
enum Length {
    /// A fixed time (`-T`).
    Seconds(u64),
    /// A fixed number of transactions per client (`-t`).
    PerClient(u64),
}

/// Runs the reference script (and the go-coordinate replay unless
/// disabled) at `clients` clients and adds their rows.
pub fn run(
    config: &Config,
    coordinate: &Arc<dyn Coordinate>,
    conn: &mut PgConnection,
    clients: usize,
    rows: &mut Vec<Row>,
) -> Result<()> {
    let binary = find_pgbench().context(
        "pgbench not found on PATH or under /usr/lib/postgresql/*/bin \
         (Debian/Ubuntu: apt-get install postgresql-contrib or postgresql)",
    )?;
    let dir = config.out.parent().unwrap_or(Path::new(".")).to_path_buf();
    std::fs::create_dir_all(&dir)?;
    let mut scripts_to_run = vec![
        (
            "ref",
            "pgbench: raw SQL claim+finish",
            scripts::CLAIM_FINISH,
        ),
        (
            "ref/b100",
            "pgbench: raw SQL claim 100 + finish 100, a statement each",
            scripts::CLAIM_FINISH_100,
        ),
    ];
    if config.go_script {
        scripts_to_run.push((
            "go",
            "pgbench: go-coordinate statements",
            scripts::GO_COORDINATE,
        ));
    }
    for (label, what, text) in scripts_to_run {
        let script = dir.join(format!("{}.sql", label.replace('/', "-")));
        // Units per pgbench transaction.
        let batch: u64 = if label == "ref/b100" { 100 } else { 1 };
        std::fs::write(&script, text)?;
        let (namespace, spec) = fresh_spec(coordinate, &label.replace('/', "-"))?;
        namespace.worker("worker-0")?;
        // The replay's cost grows with the queue (go-coordinate probes
        // every available unit for its "any available?" flag). The API
        // runs drain `claim_units`, an average depth of half that; the
        // replay runs a tenth as many transactions around the same average
        // depth, a fixed count so that a fast machine cannot empty it. The
        // reference's cost does not depend on depth; it runs for a time on
        // a queue too deep to empty.
        let (units, length) = if label == "go" {
            let transactions = config.claim_units / 10;
            (
                config.claim_units / 2 + transactions / 2,
                Length::PerClient(transactions / clients as u64),
            )
        } else {
            // Ten times the one-unit reference's queue, loaded in SQL:
            // the batched floor runs about ten times as fast.
            (
                config.reference_units * batch.min(10),
                Length::Seconds(config.reference_seconds),
            )
        };
        let (spec_id, worker_id) = pg::ids(conn, namespace.name(), "spec", "worker-0")?;
        if batch > 1 {
            pg::load_available(conn, spec_id, units as i64)?;
        } else {
            preload(&spec, "u", units)?;
        }
        let ns_id = pg::namespace_id(conn, namespace.name())?;
        pg::vacuum(conn)?;
        let vars = [("spec", spec_id), ("worker", worker_id), ("ns", ns_id)];
        // go-coordinate's sessions make no settings; the references run
        // as the library's sessions do.
        let options = (label != "go").then(library_session);
        let start = cpu::Ticks::now();
        let outcome = pgbench(
            config,
            &binary,
            &script,
            clients,
            length,
            &vars,
            options.as_deref(),
        )?;
        let cpu = start.and_then(cpu::Cpu::since).map(cpu::Cpu::elsewhere);
        let tally = pg::tally(conn, spec_id)?;
        // pgbench stops clients between transactions, so a client may
        // leave its last claim unfinished; anything else is an error.
        let units = outcome.processed * batch;
        if tally.bad != 0
            || tally.pending > (clients as u64 * batch) as i64
            || tally.finished_once < units as i64
        {
            bail!(
                "pgbench {label} at {clients} clients: {} processed but {tally:?}",
                outcome.processed
            );
        }
        if tally.untouched == 0 {
            bail!("pgbench {label} ran out of units; raise reference_units");
        }
        let what = match outcome.latency_ms {
            // pgbench reports the mean latency only; the percentile
            // columns stay empty and the mean goes in the description.
            Some(latency) => format!("{what} (mean {latency:.3} ms)"),
            None => what.to_owned(),
        };
        rows.push(Row {
            key: format!("{label}/w{clients}"),
            what,
            threads: clients,
            batch: batch as usize,
            units,
            seconds: outcome.processed as f64 / outcome.tps.max(f64::MIN_POSITIVE),
            cpu,
            ..Row::default()
        });
        crate::progress(rows);
        namespace.destroy()?;
    }
    Ok(())
}
