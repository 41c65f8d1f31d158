//! Starting cargo and other child processes, and waiting for them
//! interruptibly.
//!
//! Every command of xtask runs cargo or a program as a child; these helpers
//! used to live in `conformance.rs`, which made every other command import
//! the conformance command (and `conformance` imports `stress` and
//! `pgbouncer` back). Here they depend on nothing but the signal handling
//! of [`crate::throwaway`], which stops the child on Ctrl-C or SIGTERM so
//! that a throwaway server can be removed.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

use crate::throwaway;

/// A `cargo` command, using the same cargo that runs the xtask.
pub fn cargo() -> Command {
    // `cargo xtask` sets CARGO to the cargo that runs it, so a toolchain
    // picked by rustup or by path is also the one that builds the tests.
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// Whether `cargo nextest` is installed.
pub fn has_nextest() -> bool {
    cargo()
        .args(["nextest", "--version"])
        .output()
        .is_ok_and(|out| out.status.success())
}

/// Runs a command to completion; an error if it fails or the run was
/// interrupted.
pub fn run_checked(mut command: Command, what: &str) -> Result<()> {
    let child = command
        .spawn()
        .with_context(|| format!("could not start the {what}"))?;
    let status = throwaway::wait_interruptibly(child)?;
    // Checked before the status: a child that the signal handler stopped
    // fails too, and "interrupted" says better why than its exit status.
    if throwaway::interrupted() {
        bail!("interrupted");
    }
    if !status.success() {
        bail!("the {what} failed ({status})");
    }
    Ok(())
}

/// Builds the binary `name` of the package of the same name with `cargo
/// build` and the extra `build_args` (`--release`, `--quiet`), and returns
/// its executable as cargo reports it: the path follows `--target`,
/// `CARGO_TARGET_DIR` and `build.target-dir` without xtask knowing them.
pub fn build_executable(name: &str, build_args: &[&str]) -> Result<PathBuf> {
    let mut build = cargo();
    build
        .args(["build", "--package", name])
        .args(build_args)
        // JSON messages on stdout, compiler errors still shown on stderr.
        .arg("--message-format=json-render-diagnostics")
        .stdout(Stdio::piped());
    let mut child = build
        .spawn()
        .with_context(|| format!("could not start the build of {name}"))?;
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
        bail!("the build of {name} failed ({status})");
    }
    executable(&messages, name).with_context(|| format!("cargo reported no executable for {name}"))
}

/// The `executable` of the last `compiler-artifact` message for the target
/// `name` among cargo's JSON lines (a library artifact has none).
fn executable(messages: &str, name: &str) -> Option<PathBuf> {
    messages
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| {
            message["reason"] == "compiler-artifact" && message["target"]["name"] == name
        })
        .filter_map(|message| message["executable"].as_str().map(PathBuf::from))
        .next_back()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_executable_is_the_artifact_cargo_reports() {
        let messages = r#"{"reason":"compiler-artifact","target":{"name":"coordinate-postgres"},"executable":null}
not JSON: cargo's plain output is skipped
{"reason":"compiler-artifact","target":{"name":"stress-worker"},"executable":"/t/x86_64-unknown-linux-gnu/debug/stress-worker"}
{"reason":"build-finished","success":true}"#;
        assert_eq!(
            executable(messages, "stress-worker"),
            Some(PathBuf::from(
                "/t/x86_64-unknown-linux-gnu/debug/stress-worker"
            ))
        );
        assert_eq!(executable(messages, "coordinated"), None);
        // A package's library comes before its binary, without an executable.
        let server = r#"{"reason":"compiler-artifact","target":{"name":"coordinated","kind":["lib"]},"executable":null}
{"reason":"compiler-artifact","target":{"name":"coordinated","kind":["bin"]},"executable":"/t/release/coordinated"}"#;
        assert_eq!(
            executable(server, "coordinated"),
            Some(PathBuf::from("/t/release/coordinated"))
        );
        assert_eq!(executable(r#"{"reason":"build-finished"}"#, "x"), None);
    }
}
