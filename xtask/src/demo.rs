//! `cargo xtask demo`: the pipeline example on a real PostgreSQL.

use std::process::Command;

use anyhow::Result;

use crate::process::{cargo, run_checked};
use crate::throwaway::Database;

/// Runs `examples/pipeline.rs` against the configured server or a
/// throwaway one; extra arguments go to the example.
pub fn run(example_args: &[String]) -> Result<()> {
    let database = Database::from_env_or_throwaway()?;
    let mut pipeline: Command = cargo();
    pipeline
        .args([
            "run",
            "--package",
            "coordinate-postgres",
            "--example",
            "pipeline",
            "--",
        ])
        // Through the environment: cargo echoes the command line, and the
        // URL holds the server's password.
        .args(["--backend-env", "DATABASE_URL"])
        .env("DATABASE_URL", database.url())
        .args(example_args);
    let result = run_checked(pipeline, "pipeline example");
    drop(database);
    result
}
