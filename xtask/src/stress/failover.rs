//! `cargo xtask stress --failover`: the workers drain the chained specs
//! against a primary with a streaming standby; midway the primary is
//! killed with SIGKILL and, after a delay, the standby promoted. The
//! workers reach both through one connection string that lists the two
//! servers with `target_session_attrs=read-write`, so they find the new
//! primary by themselves. Each worker writes down every result the store
//! acknowledged; the check looks for each on the new primary.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::{field, nanos, worker, Settings};
use crate::throwaway::{self, ReplicatedServers, Replication};

/// The failover fault of a run.
#[derive(Debug, Clone, Copy)]
pub struct Failover {
    pub replication: Replication,
    /// From the primary's death to the standby's promotion: how long a
    /// failover manager takes to decide.
    pub promote_delay: Duration,
}

impl Default for Failover {
    fn default() -> Self {
        Failover {
            replication: Replication::Synchronous,
            promote_delay: Duration::from_secs(2),
        }
    }
}

/// The share of `stage1` done when the primary is killed.
const KILL_AT: f64 = 0.5;

/// Runs the drain with the failover fault on servers of its own.
pub fn run(settings: &Settings, failover: Failover) -> Result<()> {
    if std::env::var_os("DATABASE_URL").is_some() || std::env::var_os("PGHOST").is_some() {
        eprintln!("xtask: stress --failover starts its own primary and standby; DATABASE_URL and PGHOST are not used");
    }
    let mut servers = ReplicatedServers::start(failover.replication)?;
    let started = Instant::now();
    let stress = worker::build()?;
    let url = servers.url().to_owned();
    let namespace = format!("failover-{}-{}", std::process::id(), nanos());
    let acks = std::env::temp_dir().join(format!(
        "coordinate-acks-{}-{}",
        std::process::id(),
        nanos()
    ));
    std::fs::create_dir(&acks).with_context(|| format!("creating {}", acks.display()))?;
    let outcome = drain(
        settings,
        failover,
        &mut servers,
        &stress,
        &url,
        &namespace,
        &acks,
    );
    let _ = std::fs::remove_dir_all(&acks);
    let report = outcome?;
    println!("{report}");
    eprintln!(
        "xtask: stress --failover took {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Loads, runs the workers through the failover and checks; the summary
/// lines on success.
fn drain(
    settings: &Settings,
    failover: Failover,
    servers: &mut ReplicatedServers,
    stress: &std::path::Path,
    url: &str,
    namespace: &str,
    acks: &std::path::Path,
) -> Result<String> {
    worker::load(stress, url, namespace, settings)?;
    let psql = servers.primary.bin_dir().join("psql");

    let spawn = |index: usize| {
        let file = acks.join(format!("proc-{index}.acks"));
        worker::spawn(
            stress,
            url,
            namespace,
            settings,
            index,
            &["--acks".into(), file.into()],
        )
    };
    let mut running = (0..settings.processes)
        .map(spawn)
        .collect::<Result<Vec<_>>>()?;
    let began = Instant::now();
    let hard_deadline = began + settings.deadline + Duration::from_secs(30);
    let mut finished = Vec::new();
    let mut killed_at: Option<(i64, f64)> = None;
    let result = loop {
        if throwaway::interrupted() {
            break Err(anyhow::anyhow!("interrupted"));
        }
        if Instant::now() > hard_deadline {
            break Err(anyhow::anyhow!("the workers did not finish in time"));
        }
        worker::reap(&mut running, &mut finished)?;
        if running.is_empty() {
            break Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
        if killed_at.is_some() {
            continue;
        }
        let done = super::faults::progress(&psql, url, namespace).unwrap_or(0);
        let share = done as f64 / settings.units as f64;
        if share >= KILL_AT {
            servers.primary.kill()?;
            // Taken after the kill: every result dated later was
            // committed on the new primary.
            let epoch_ms = (nanos() / 1_000_000) as i64;
            eprintln!(
                "xtask: stress: SIGKILLed the primary at {:.0}% of stage1; promoting the standby in {:?}",
                share * 100.0,
                failover.promote_delay
            );
            killed_at = Some((epoch_ms, share));
            std::thread::sleep(failover.promote_delay);
            let promoting = Instant::now();
            servers.standby.promote()?;
            eprintln!(
                "xtask: stress: standby promoted (pg_ctl promote took {:?})",
                promoting.elapsed()
            );
        }
    };
    if let Err(e) = result {
        worker::kill_all(&mut running);
        return Err(e);
    }
    let Some((kill_epoch_ms, kill_share)) = killed_at else {
        bail!("the workers finished before the primary was killed: use more --units");
    };

    let (totals, failures) = worker::tally(finished)?;

    let mut check = worker::command(stress, url);
    check.args(["check", "--namespace", namespace]);
    check.args(["--units", &settings.units.to_string(), "--drop"]);
    check.arg("--acks").arg(acks);
    check.args(["--kill-epoch-ms", &kill_epoch_ms.to_string()]);
    if failover.replication == Replication::Asynchronous {
        check.arg("--async");
    }
    let output = check.output().context("running stress check")?;
    let report = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let get = |key: &str| field(&report, key).unwrap_or(0);

    let delay_ms = failover.promote_delay.as_millis() as i64;
    let first_after = get("first_done_after_kill_ms");
    let before_s = (-get("first_start_ms")).max(1) as f64 / 1000.0;
    let after_s = (get("last_done_ms") - first_after).max(1) as f64 / 1000.0;
    let violations = field(&report, "violations");
    let summary = [
        format!(
            "stress --failover: {} units (+{} chained), {} processes x {} threads, {} replication, primary killed at {:.0}% of stage1, promoted {delay_ms} ms later",
            get("stage1_units"),
            get("stage2_units"),
            settings.processes,
            settings.threads,
            match failover.replication {
                Replication::Synchronous => "synchronous",
                Replication::Asynchronous => "asynchronous",
            },
            kill_share * 100.0
        ),
        format!(
            "stress --failover: stall {} ms (first result on the new primary {first_after} ms after the kill, minus the promotion delay); {:.0} units/s before, {:.0} after",
            first_after - delay_ms,
            get("done_before_kill") as f64 / before_s,
            get("done_after_kill") as f64 / after_s,
        ),
        format!(
            "stress --failover: {} results acknowledged ({} without a start time to look for), {} of them lost; workers: {}",
            get("acknowledged"),
            get("acknowledged_unnamed"),
            get("acknowledged_lost"),
            totals.describe()
        ),
        format!(
            "stress --failover: invariant violations: {}",
            violations.map_or("unknown".to_owned(), |v| v.to_string())
        ),
    ]
    .join("\n");
    if !output.status.success() || violations != Some(0) {
        bail!(
            "{summary}\nstress check failed ({}): {report}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    if !failures.is_empty() {
        bail!("{summary}\nstress workers failed:\n{}", failures.join("\n"));
    }
    if totals.unexpected_errors > 0 {
        bail!(
            "{summary}\nstress workers saw {} unexpected errors",
            totals.unexpected_errors
        );
    }
    Ok(summary)
}
