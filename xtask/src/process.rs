//! Starting cargo and other child processes, and waiting for them
//! interruptibly.
//!
//! Every command of xtask runs cargo or a program as a child; these helpers
//! used to live in `conformance.rs`, which made every other command import
//! the conformance command (and `conformance` imports `stress` and
//! `pgbouncer` back). Here they depend on nothing but the signal handling
//! of [`crate::throwaway`], which stops the child on Ctrl-C or SIGTERM so
//! that a throwaway server can be removed.

use std::process::Command;

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
