//! The worker program, `xtask/stress-worker`: built by cargo, which says
//! where the executable is, and started with the server in its environment.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Result;

use crate::process::build_executable;

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
