//! `cargo xtask bench`: the throughput benchmark (`coordinate-postgres`'s
//! `benches/throughput`) against a PostgreSQL server that makes commits
//! durable.

use std::process::Command;

use anyhow::Result;

use crate::process::{cargo, run_checked};
use crate::throwaway::{Database, Durability};

/// Where the results go, relative to the workspace root.
const RESULTS: &str = "target/bench/results.json";

/// Runs the benchmark in release mode against the server in
/// `DATABASE_URL`/`PGHOST` or a throwaway one with production durability;
/// arguments (`--quick`, `--out <path>`, `--no-go`, `--only <section>`) go
/// to the benchmark.
pub fn run(bench_args: &[String]) -> Result<()> {
    let database = Database::from_env_or(Durability::Production)?;
    let mut bench: Command = cargo();
    bench
        .args([
            "bench",
            "--package",
            "coordinate-postgres",
            "--bench",
            "throughput",
            "--",
        ])
        // Through the environment: cargo echoes the command line, and the
        // URL holds the server's password.
        .args(["--backend-env", "DATABASE_URL"])
        .env("DATABASE_URL", database.url());
    // The same rows through PgBouncer in transaction mode, when it is
    // installed: what `transaction_pooling(true)` costs.
    let bouncer = crate::pgbouncer::start_in_front_of(database.url())?;
    if let Some((_, url)) = &bouncer {
        bench
            .args(["--pooled-env", "COORDINATE_BENCH_POOLER_URL"])
            .env("COORDINATE_BENCH_POOLER_URL", url);
    }
    // cargo runs a benchmark in its package's directory: make paths
    // absolute, relative to where the user is, and put the default output
    // under the workspace's target directory.
    let here = std::env::current_dir()?;
    let mut args = bench_args.iter();
    let mut has_out = false;
    while let Some(arg) = args.next() {
        bench.arg(arg);
        if arg == "--out" {
            has_out = true;
            if let Some(path) = args.next() {
                bench.arg(here.join(path));
            }
        }
    }
    if !has_out {
        bench
            .arg("--out")
            .arg(crate::workspace_root().join(RESULTS));
    }
    let result = run_checked(bench, "benchmark");
    drop(bouncer);
    drop(database);
    result
}
