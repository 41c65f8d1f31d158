//! `cargo xtask stress [--long]`: many worker processes drain chained work
//! specs on the worker runtime while connections are cut, one worker is
//! killed, another stopped with SIGTERM (it must exit within its grace plus
//! a second) and the server restarts; then SQL checks prove nothing was lost or handed
//! out twice.
//!
//! `--failover` replaces those faults with one a fleet meets in production:
//! the primary dies and a standby is promoted (`stress/failover.rs`).
//!
//! The worker program is the nested crate `xtask/stress-worker` (modes
//! `load`, `work`, `check`); this module builds and runs it and injects the
//! faults.

use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};

mod failover;
mod faults;
mod worker;

use crate::throwaway::{self, Database};
use faults::{find_psql, progress, terminate_connections, Faults};

/// `application_name` of the worker processes' connections: the only ones
/// the fault injector terminates.
const APP_NAME: &str = "coordinate-stress";
/// How long a SIGTERMed worker lets its running handlers finish; it must
/// exit within this plus a second.
const SIGTERM_GRACE: Duration = Duration::from_secs(2);

/// The size and length of one run.
#[derive(Debug, Clone)]
pub struct Settings {
    units: usize,
    processes: usize,
    threads: usize,
    seed: u64,
    /// Workers give up after this long; the run fails.
    deadline: Duration,
    faults: bool,
    /// Handlers finish in one transaction with a counter row of their own,
    /// which the check counts (`--transactional`).
    transactional: bool,
}

impl Settings {
    /// The short run that `cargo xtask conformance` includes.
    pub fn short() -> Settings {
        Settings {
            units: 2_000,
            processes: 4,
            threads: 4,
            seed: 1,
            // Workers give up only this late: a deadline is for a run that
            // hangs, and a busy 2-core machine took over 75 s once (about
            // 30 s when quiet).
            deadline: Duration::from_secs(180),
            faults: true,
            transactional: false,
        }
    }

    /// The worker program's flags for this run's form.
    fn mode_args(&self) -> &'static [&'static str] {
        if self.transactional {
            &["--transactional"]
        } else {
            &[]
        }
    }

    /// The long run, for a person to start.
    fn long() -> Settings {
        Settings {
            units: 20_000,
            deadline: Duration::from_secs(1_800),
            ..Settings::short()
        }
    }
}

const USAGE: &str = "\
usage: cargo xtask stress [--long] [--units <n>] [--processes <p>] [--threads <t>]
                          [--seed <s>] [--no-faults] [--transactional]
                          [--failover [--async] [--promote-delay-ms <ms>]]

--transactional: each handler finishes its unit in one transaction with a
counter row of its own (TransactionalHandler); the check wants every
finished unit counted exactly once.

--failover runs on a primary and a standby of its own: the primary is
SIGKILLed midway and the standby promoted after the delay (default 2000 ms);
replication is synchronous unless --async.
";

/// `cargo xtask stress`: parses the options, finds a server and runs.
pub fn run(args: &[String]) -> Result<()> {
    let mut settings = Settings::short();
    let mut failover: Option<failover::Failover> = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = || -> Result<usize> {
            let text = args
                .next()
                .with_context(|| format!("{arg} needs a value"))?;
            text.parse().with_context(|| format!("{arg} {text:?}"))
        };
        match arg.as_str() {
            "--long" => {
                settings = Settings {
                    seed: settings.seed,
                    transactional: settings.transactional,
                    ..Settings::long()
                };
            }
            "--units" => settings.units = value()?,
            "--processes" => settings.processes = value()?.max(1),
            "--threads" => settings.threads = value()?.max(1),
            "--seed" => settings.seed = value()? as u64,
            "--no-faults" => settings.faults = false,
            "--transactional" => settings.transactional = true,
            "--failover" => failover = Some(failover.unwrap_or_default()),
            "--async" => {
                failover.get_or_insert_with(Default::default).replication =
                    throwaway::Replication::Asynchronous
            }
            "--promote-delay-ms" => {
                let delay = Duration::from_millis(value()? as u64);
                failover.get_or_insert_with(Default::default).promote_delay = delay;
            }
            "-h" | "--help" => {
                print!("{USAGE}");
                return Ok(());
            }
            other => bail!("unknown option {other:?}\n\n{USAGE}"),
        }
    }
    if let Some(failover) = failover {
        return failover::run(&settings, failover);
    }
    let database = Database::from_env_or_throwaway()?;
    let result = run_on(&database, &settings);
    drop(database);
    result
}

/// Runs the stress test against `database`.
pub fn run_on(database: &Database, settings: &Settings) -> Result<()> {
    let started = Instant::now();
    let stress = worker::build()?;
    let url = database.url().to_owned();
    let namespace = format!("stress-{}-{}", std::process::id(), nanos());
    eprintln!(
        "xtask: stress: {} units, {} processes x {} threads, namespace {namespace}",
        settings.units, settings.processes, settings.threads
    );

    worker::load(&stress, &url, &namespace, settings)?;

    let psql = find_psql(database);
    if settings.faults && psql.is_none() {
        bail!("no psql found (PATH, /usr/lib/postgresql/*/bin): needed to inject faults; pass --no-faults to run without");
    }
    let spawn = |index: usize| worker::spawn(&stress, &url, &namespace, settings, index, &[]);
    let mut running = (0..settings.processes)
        .map(spawn)
        .collect::<Result<Vec<_>>>()?;

    let faults = Arc::new(Faults::default());
    let stop = Arc::new(AtomicBool::new(false));
    let terminator = match (&psql, settings.faults) {
        (Some(psql), true) => {
            let (psql, faults, stop) = (psql.clone(), faults.clone(), stop.clone());
            let url = url.clone();
            Some(std::thread::spawn(move || {
                terminate_connections(&psql, &url, &faults, &stop)
            }))
        }
        _ => None,
    };

    // Watch progress; kill one worker at 30%, stop one with SIGTERM at 45%
    // and restart the server at 60%.
    let mut finished = Vec::new();
    let mut killed = None;
    let mut drained: Option<Duration> = None;
    let mut restarted = !settings.faults;
    let mut next_index = settings.processes;
    let hard_deadline = started + settings.deadline + Duration::from_secs(30);
    let outcome = loop {
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
        std::thread::sleep(Duration::from_millis(250));
        let done = psql
            .as_ref()
            .and_then(|psql| progress(psql, &url, &namespace))
            .unwrap_or(0);
        let share = done as f64 / settings.units as f64;
        if settings.faults && killed.is_none() && share >= 0.3 {
            let mut victim = running.remove(0);
            victim.child.kill().context("killing a worker")?;
            victim.child.wait()?;
            eprintln!(
                "xtask: stress: SIGKILLed {} at {:.0}% of stage1",
                victim.name,
                share * 100.0
            );
            faults.kills.fetch_add(1, Ordering::Relaxed);
            killed = Some(victim.name);
            running.push(spawn(next_index)?);
            next_index += 1;
        }
        if settings.faults && drained.is_none() && share >= 0.45 {
            let mut victim = running.remove(0);
            faults.held.store(true, Ordering::SeqCst);
            // A kill already on its way (psql takes a few ms) lands first.
            std::thread::sleep(Duration::from_millis(100));
            let took = stop_with_sigterm(&mut victim.child);
            faults.held.store(false, Ordering::SeqCst);
            let took = took?;
            eprintln!(
                "xtask: stress: SIGTERMed {} at {:.0}% of stage1; it exited after {took:?}",
                victim.name,
                share * 100.0
            );
            faults.sigterms.fetch_add(1, Ordering::Relaxed);
            drained = Some(took);
            let status = victim.child.wait()?;
            finished.push((victim, status));
            running.push(spawn(next_index)?);
            next_index += 1;
        }
        if !restarted && share >= 0.6 {
            restarted = true;
            if let Some(server) = database.server() {
                eprintln!("xtask: stress: restarting the server (pg_ctl restart -m fast)");
                server.restart()?;
                faults.restarts.fetch_add(1, Ordering::Relaxed);
            } else {
                eprintln!("xtask: stress: not restarting a server this run did not start");
            }
        }
    };
    stop.store(true, Ordering::SeqCst);
    if let Some(thread) = terminator {
        let _ = thread.join();
    }
    if let Err(e) = outcome {
        worker::kill_all(&mut running);
        return Err(e);
    }
    let (totals, failures) = worker::tally(finished)?;

    let mut check = worker::command(&stress, &url);
    check.args(["check", "--namespace", &namespace]);
    check.args(["--units", &settings.units.to_string(), "--drop"]);
    check.args(settings.mode_args());
    let output = check.output().context("running stress check")?;
    let report = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let get = |key: &str| field(&report, key).unwrap_or(0);

    let f = |c: &AtomicU64| c.load(Ordering::Relaxed);
    println!(
        "stress{}: {} units (+{} chained), {} processes x {} threads (+{} replacement), {:.1} s",
        if settings.transactional {
            " --transactional"
        } else {
            ""
        },
        get("stage1_units"),
        get("stage2_units"),
        settings.processes,
        settings.threads,
        next_index - settings.processes,
        started.elapsed().as_secs_f64()
    );
    println!(
        "stress: faults: {} connections terminated ({} injector calls failed), {} worker killed, {} worker stopped by SIGTERM{}, {} server restart",
        f(&faults.terminated),
        f(&faults.injector_errors),
        f(&faults.kills),
        f(&faults.sigterms),
        drained.map_or(String::new(), |took| format!(" (exited after {took:?})")),
        f(&faults.restarts)
    );
    println!(
        "stress: workers (killed one not counted): {}",
        totals.describe()
    );
    println!(
        "stress: store: {} attempts ({} expired, {} retryable), units {} finished / {} failed, at most {} attempts per unit",
        get("attempts"),
        get("attempts_expired"),
        get("attempts_retryable"),
        get("units_finished"),
        get("units_failed"),
        get("max_attempts_per_unit"),
    );
    let violations = field(&report, "violations");
    println!(
        "stress: invariant violations: {}",
        violations.map_or("unknown".to_owned(), |v| v.to_string())
    );
    if report.contains("overlap_with_expired_lease") {
        println!(
            "stress: overlap_with_expired_lease: a new attempt is dated up to {} us before the \
             previous attempt's lease ran out, i.e. its start_time precedes the release that let \
             it claim the unit (a start time read before the claim, not a double claim, when \
             overlap_with_completed_attempt is 0)",
            get("worst_expired_overlap_us")
        );
    }
    if !output.status.success() || violations != Some(0) {
        bail!(
            "stress check failed ({}): {report}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    if !failures.is_empty() {
        bail!("stress workers failed:\n{}", failures.join("\n"));
    }
    if let Some(took) = drained.filter(|took| *took > SIGTERM_GRACE + Duration::from_secs(1)) {
        bail!("the SIGTERMed worker took {took:?} to exit, more than its grace {SIGTERM_GRACE:?} plus 1 s");
    }
    if totals.unexpected_errors > 0 {
        bail!(
            "stress workers saw {} unexpected errors",
            totals.unexpected_errors
        );
    }
    Ok(())
}

/// Worker counters summed over processes.
#[derive(Default)]
struct Totals {
    counts: Vec<(&'static str, i64)>,
    unexpected_errors: i64,
}

const COUNTERS: &[&str] = &[
    "attempts",
    "finished",
    "failed",
    "retried",
    "released",
    "lost_leases",
    "unsent",
];

impl Totals {
    fn add(&mut self, line: &str) {
        if self.counts.is_empty() {
            self.counts = COUNTERS.iter().map(|k| (*k, 0)).collect();
        }
        for (key, total) in &mut self.counts {
            *total += field(line, key).unwrap_or(0);
        }
        self.unexpected_errors += field(line, "unexpected_errors").unwrap_or(0);
    }

    fn describe(&self) -> String {
        let mut parts: Vec<String> = self
            .counts
            .iter()
            .map(|(k, v)| format!("{v} {}", k.replace('_', " ")))
            .collect();
        parts.push(format!("{} unexpected errors", self.unexpected_errors));
        parts.join(", ")
    }
}

/// Sends SIGTERM and waits for the process to exit; returns how long that
/// took.
fn stop_with_sigterm(child: &mut Child) -> Result<Duration> {
    let asked = Instant::now();
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .context("running kill")?;
    if !status.success() {
        bail!("kill -TERM failed: {status}");
    }
    while child.try_wait()?.is_none() {
        if asked.elapsed() > SIGTERM_GRACE + Duration::from_secs(30) {
            let _ = child.kill();
            bail!("a worker ignored SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(asked.elapsed())
}

/// The integer after `"key":` in a flat JSON object.
fn field(json: &str, key: &str) -> Option<i64> {
    let pattern = format!("\"{key}\":");
    let start = json.find(&pattern)? + pattern.len();
    let digits: String = json[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '-')
        .collect();
    digits.parse().ok()
}

fn nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}
