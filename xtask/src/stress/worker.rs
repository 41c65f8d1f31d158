//! The worker program, `xtask/stress-worker`: built by cargo, which says
//! where the executable is, and started with the server in its environment.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

use crate::process::cargo;
use crate::throwaway;

/// Builds the `stress-worker` crate and returns its executable, as cargo
/// reports it: the path follows `--target`, `CARGO_TARGET_DIR` and
/// `build.target-dir` without this module knowing them.
pub fn build() -> Result<PathBuf> {
    let mut build = cargo();
    build
        .args(["build", "--quiet", "--package", WORKER])
        // JSON messages on stdout, compiler errors still shown on stderr.
        .arg("--message-format=json-render-diagnostics")
        .stdout(Stdio::piped());
    let mut child = build
        .spawn()
        .context("could not start the build of the stress worker")?;
    // Read on a thread, so that a signal can reach cargo while it builds.
    let mut out = child.stdout.take().context("the build's output")?;
    let reader = std::thread::spawn(move || {
        let mut messages = String::new();
        out.read_to_string(&mut messages).map(|_| messages)
    });
    let status = throwaway::wait_interruptibly(child)?;
    let messages = reader
        .join()
        .map_err(|_| anyhow::anyhow!("reading the build's output panicked"))??;
    if throwaway::interrupted() {
        bail!("interrupted");
    }
    if !status.success() {
        bail!("the build of the stress worker failed ({status})");
    }
    executable(&messages).with_context(|| format!("cargo reported no executable for {WORKER}"))
}

/// The package of the worker program.
const WORKER: &str = "stress-worker";

/// The `executable` of the last `compiler-artifact` message for [`WORKER`]
/// among cargo's JSON lines.
fn executable(messages: &str) -> Option<PathBuf> {
    messages
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| {
            message["reason"] == "compiler-artifact" && message["target"]["name"] == WORKER
        })
        .filter_map(|message| message["executable"].as_str().map(PathBuf::from))
        .next_back()
}

/// A command running the worker program on the server `url`, given
/// through the environment: a command line is visible to every local user
/// (`ps`), and the URL holds the server's password.
pub fn command(program: &Path, url: &str) -> Command {
    let mut command = Command::new(program);
    command.env("DATABASE_URL", url);
    command
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_executable_is_the_worker_artifact_cargo_reports() {
        let messages = r#"{"reason":"compiler-artifact","target":{"name":"coordinate-postgres"},"executable":null}
not JSON: cargo's plain output is skipped
{"reason":"compiler-artifact","target":{"name":"stress-worker"},"executable":"/t/x86_64-unknown-linux-gnu/debug/stress-worker"}
{"reason":"build-finished","success":true}"#;
        assert_eq!(
            executable(messages),
            Some(PathBuf::from(
                "/t/x86_64-unknown-linux-gnu/debug/stress-worker"
            ))
        );
        assert_eq!(executable(r#"{"reason":"build-finished"}"#), None);
    }
}
