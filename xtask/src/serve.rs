//! `cargo xtask serve`: `coordinated` on a throwaway PostgreSQL (or the
//! configured server) with the pipeline example running beside it, so a
//! newcomer can open the dashboard and watch work flow; Ctrl-C stops the
//! pipeline (cleanly), the server, and removes a throwaway server.
//! `--no-pipeline` serves an empty store.

use std::fs::File;
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result};

use crate::process::{build_executable, cargo, run_checked};
use crate::throwaway::Database;

/// Where the pipeline's output goes (the terminal shows the server's).
const PIPELINE_LOG: &str = "target/xtask-serve-pipeline.log";

/// Starts `coordinated` against the configured server or a throwaway one,
/// and the pipeline example unless `--no-pipeline`; arguments after `--`
/// go to `coordinated` (`-http 127.0.0.1:5980` unless they name another).
pub fn run(args: &[String]) -> Result<()> {
    let with_pipeline = !args.iter().any(|a| a == "--no-pipeline");
    let server_args: Vec<&String> = args
        .iter()
        .filter(|a| *a != "--no-pipeline" && *a != "--")
        .collect();
    let database = Database::from_env_or_throwaway()?;
    let coordinated = build_executable("coordinated", &["--quiet"])?;
    let mut server = Command::new(coordinated);
    // The connection string (with its password) travels in the
    // environment, never on a command line; empty, libpq reads PGHOST and
    // friends.
    let backend = match database.url() {
        "" => "postgres:",
        url => url,
    };
    server.env("COORDINATED_BACKEND", backend);
    if !server_args
        .iter()
        .any(|arg| arg.trim_start_matches('-').starts_with("http"))
    {
        server.args(["-http", "127.0.0.1:5980"]);
    }
    server.args(&server_args);
    let mut pipeline = if with_pipeline {
        Some(start_pipeline(database.url())?)
    } else {
        None
    };
    eprintln!(
        "xtask: the dashboard is at http://127.0.0.1:5980/ (unless -http says otherwise): \
         open it in a browser{}; Ctrl-C stops everything",
        if with_pipeline {
            format!("; the pipeline example works beside it (its output: {PIPELINE_LOG})")
        } else {
            String::new()
        }
    );
    let result = match run_checked(server, "coordinated") {
        // Ctrl-C is how this command ends: the server drained and stopped.
        Err(_) if crate::throwaway::interrupted() => Ok(()),
        other => other,
    };
    if let Some(pipeline) = &mut pipeline {
        stop(pipeline);
    }
    drop(database);
    result
}

/// The pipeline example, slow enough to watch: 50,000 units of 20 ms on
/// four workers, kept in the store afterwards.
fn start_pipeline(url: &str) -> Result<Child> {
    let log = File::create(PIPELINE_LOG).with_context(|| format!("creating {PIPELINE_LOG}"))?;
    let mut pipeline = cargo();
    pipeline
        .args([
            "run",
            "--quiet",
            "--package",
            "coordinate-postgres",
            "--example",
            "pipeline",
            "--",
        ])
        .args([
            "--backend-env",
            "DATABASE_URL",
            "--units",
            "50000",
            "--work-ms",
            "20",
        ])
        .args(["--workers", "4", "--keep"])
        .env("DATABASE_URL", url)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    pipeline
        .spawn()
        .context("could not start the pipeline example")
}

/// Stops the pipeline: SIGTERM (it finishes or gives back what runs),
/// then waits for it.
fn stop(pipeline: &mut Child) {
    let _ = Command::new("kill").arg(pipeline.id().to_string()).status();
    let _ = pipeline.wait();
}
