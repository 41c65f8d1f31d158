//! The worker program, `xtask/stress-worker`: built by cargo, which says
//! where the executable is, and started with the server in its environment.

use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};

use anyhow::{Context, Result};

use super::{Settings, Totals, APP_NAME, SIGTERM_GRACE};
use crate::process::{build_executable, run_checked};

/// Builds the `stress-worker` crate and returns its executable.
pub fn build() -> Result<PathBuf> {
    build_executable(WORKER, &["--quiet"])
}

/// The package of the worker program.
const WORKER: &str = "stress-worker";

/// A command running the worker program on the server `url`, given
/// through the environment: a command line is visible to every local user
/// (`ps`), and the URL holds the server's password.
pub fn command(program: &Path, url: &str) -> Command {
    let mut command = Command::new(program);
    command.env("DATABASE_URL", url);
    command
}

/// Defines the chained specs and loads `settings.units` units.
pub fn load(program: &Path, url: &str, namespace: &str, settings: &Settings) -> Result<()> {
    let mut load = command(program, url);
    load.args(["load", "--namespace", namespace]);
    load.args(["--units", &settings.units.to_string()]);
    load.args(settings.mode_args());
    load.stdout(Stdio::null());
    run_checked(load, "stress load")
}

/// One running worker process.
pub struct WorkerProcess {
    pub name: String,
    pub child: Child,
}

/// Starts worker process `proc-<index>` on the runtime, with `extra`
/// arguments after the run's own.
pub fn spawn(
    program: &Path,
    url: &str,
    namespace: &str,
    settings: &Settings,
    index: usize,
    extra: &[OsString],
) -> Result<WorkerProcess> {
    let name = format!("proc-{index}");
    let child = command(program, url)
        .args(["work", "--namespace", namespace])
        .args(["--name", &name, "--threads", &settings.threads.to_string()])
        .args(["--seed", &(settings.seed * 100 + index as u64).to_string()])
        .args(["--deadline-s", &settings.deadline.as_secs().to_string()])
        .args(["--grace-ms", &SIGTERM_GRACE.as_millis().to_string()])
        .args(settings.mode_args())
        .args(extra)
        .env("PGAPPNAME", APP_NAME)
        .stdout(Stdio::piped())
        .spawn()
        .context("starting a stress worker")?;
    Ok(WorkerProcess { name, child })
}

/// Moves the workers of `running` that exited to `finished`.
pub fn reap(
    running: &mut Vec<WorkerProcess>,
    finished: &mut Vec<(WorkerProcess, ExitStatus)>,
) -> Result<()> {
    let mut still = Vec::new();
    for mut worker in running.drain(..) {
        match worker.child.try_wait()? {
            Some(status) => finished.push((worker, status)),
            None => still.push(worker),
        }
    }
    *running = still;
    Ok(())
}

/// Kills what still runs (after a failed run).
pub fn kill_all(running: &mut [WorkerProcess]) {
    for worker in running {
        let _ = worker.child.kill();
        let _ = worker.child.wait();
    }
}

/// The exited workers' counters summed, and a line for each that failed.
pub fn tally(finished: Vec<(WorkerProcess, ExitStatus)>) -> Result<(Totals, Vec<String>)> {
    let mut totals = Totals::default();
    let mut failures = Vec::new();
    for (mut worker, status) in finished {
        let mut line = String::new();
        if let Some(mut out) = worker.child.stdout.take() {
            out.read_to_string(&mut line)?;
        }
        totals.add(&line);
        if !status.success() {
            failures.push(format!(
                "{} exited with {status}: {}",
                worker.name,
                line.trim()
            ));
        }
    }
    Ok((totals, failures))
}
