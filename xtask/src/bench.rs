//! `cargo xtask bench`: the throughput benchmark (`coordinate-postgres`'s
//! `benches/throughput`) against a PostgreSQL server that makes commits
//! durable.

use std::path::PathBuf;
use std::process::Command;

use anyhow::Result;

use crate::pgbouncer;
use crate::process::{build_executable, cargo, run_checked};
use crate::throwaway::{Database, Durability};

/// Where the results go, relative to the workspace root.
const RESULTS: &str = "target/bench/results.json";

/// Runs the benchmark in release mode against the server in
/// `DATABASE_URL`/`PGHOST` or a throwaway one with production durability;
/// arguments (`--quick`, `--out <path>`, `--no-go`, `--only <section>`) go
/// to the benchmark. When the `rest` or `dashboard` section runs, the
/// `coordinated` server is built in release first and handed to the
/// benchmark.
pub fn run(bench_args: &[String]) -> Result<()> {
    // Built before any database is started: a failed build then leaves
    // nothing to clean up. The benchmark starts the server itself, once
    // per server it needs, so it gets the binary rather than a URL.
    let server = if asks_for(bench_args, "rest") || asks_for(bench_args, "dashboard") {
        eprintln!("xtask: bench: building coordinated (release) for the rest and dashboard rows");
        Some(build_coordinated()?)
    } else {
        None
    };
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
    if let Some(server) = &server {
        bench.arg("--coordinated").arg(server);
    }
    // The same rows through PgBouncer in transaction mode, when it can
    // run: what `transaction_pooling(true)` costs. When it cannot, the
    // other rows still run; the reason is said now, before the long run,
    // and goes into the report's notes.
    let mut bouncer = None;
    match pooled_rows(bench_args, pgbouncer::find_program(), database.url()) {
        Pooled::NotAsked => {}
        Pooled::Skip(reason) => {
            eprintln!("xtask: bench: the pooled (PgBouncer) rows are skipped: {reason}");
            bench.args(["--pooled-skipped", &reason]);
        }
        Pooled::Run(program) => {
            let (running, url) = pgbouncer::start_in_front_of(&program, database.url())?;
            bouncer = Some(running);
            bench
                .args(["--pooled-env", "COORDINATE_BENCH_POOLER_URL"])
                .env("COORDINATE_BENCH_POOLER_URL", url);
        }
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

/// What a run does about the benchmark's pooled rows (claim+finish through
/// PgBouncer in transaction mode).
#[derive(Debug, PartialEq, Eq)]
enum Pooled {
    /// `--only` leaves the `pooled` section out: no PgBouncer is started
    /// and nothing needs saying.
    NotAsked,
    /// They run through a PgBouncer started from this program.
    Run(PathBuf),
    /// They cannot run, for this reason (one line, for the user and the
    /// report); every other row still runs.
    Skip(String),
}

/// Whether the benchmark's arguments let `section` run: every section
/// does unless `--only` names some. The value after `--only` is a section
/// name, never an option.
fn asks_for(bench_args: &[String], section: &str) -> bool {
    let mut only = Vec::new();
    let mut args = bench_args.iter();
    while let Some(arg) = args.next() {
        if arg == "--only" {
            only.extend(args.next());
        }
    }
    only.is_empty() || only.iter().any(|named| *named == section)
}

/// Builds `coordinated` in release mode (as the benchmark is built) and
/// gives the path of its executable.
fn build_coordinated() -> Result<PathBuf> {
    build_executable("coordinated", &["--release"])
}

/// Decides about the pooled rows from the benchmark's arguments, the
/// installed `pgbouncer` (if any) and the server's connection string.
/// Pure, so that the choice is tested without a server or PgBouncer.
fn pooled_rows(bench_args: &[String], program: Option<PathBuf>, database_url: &str) -> Pooled {
    if !asks_for(bench_args, "pooled") {
        return Pooled::NotAsked;
    }
    let Some(program) = program else {
        return Pooled::Skip(format!(
            "`pgbouncer` is not installed; {}",
            pgbouncer::INSTALL_HINT
        ));
    };
    match pgbouncer::usable_upstream(database_url) {
        Ok(()) => Pooled::Run(program),
        // A password-less URL (a server trusting local connections) is
        // fine for every other row; only PgBouncer, which logs in on its
        // clients' behalf from an auth file, needs the password.
        Err(why) => Pooled::Skip(format!(
            "{why}; set DATABASE_URL so, or unset DATABASE_URL and PGHOST for a throwaway server"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The arguments as `cargo xtask bench` gets them.
    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|a| (*a).to_owned()).collect()
    }

    #[test]
    fn the_rest_section_is_asked_for_unless_only_leaves_it_out() {
        assert!(asks_for(&[], "rest"));
        assert!(asks_for(&args(&["--quick", "--no-go"]), "rest"));
        assert!(asks_for(
            &args(&["--only", "claims", "--only", "rest"]),
            "rest"
        ));
        assert!(!asks_for(&args(&["--only", "claims"]), "rest"));
        // `--out rest` names a file, not the section.
        assert!(!asks_for(
            &args(&["--out", "rest", "--only", "add"]),
            "rest"
        ));
    }

    #[test]
    fn pooled_rows_run_when_pgbouncer_and_a_password_are_there() {
        let program = Some(PathBuf::from("/usr/sbin/pgbouncer"));
        let url = "postgres://u:secret@127.0.0.1:5432/db";
        assert_eq!(
            pooled_rows(&args(&["--quick"]), program.clone(), url),
            Pooled::Run(PathBuf::from("/usr/sbin/pgbouncer"))
        );
        assert_eq!(
            pooled_rows(
                &args(&["--only", "claims", "--only", "pooled"]),
                program,
                url
            ),
            Pooled::Run(PathBuf::from("/usr/sbin/pgbouncer"))
        );
    }

    #[test]
    fn pooled_rows_are_skipped_with_a_reason_without_a_password() {
        let program = Some(PathBuf::from("/usr/sbin/pgbouncer"));
        let trusting = "postgres://postgres@127.0.0.1:5432/postgres";
        let Pooled::Skip(reason) = pooled_rows(&args(&["--quick"]), program.clone(), trusting)
        else {
            panic!("a password-less URL must skip the pooled rows");
        };
        assert!(reason.contains("DATABASE_URL has no password"), "{reason}");
        assert!(!reason.contains('\n'), "one line: {reason}");
        // PGHOST and friends: an empty connection string.
        assert!(matches!(
            pooled_rows(&[], program, ""),
            Pooled::Skip(reason) if reason.contains("PG* environment variables")
        ));
    }

    #[test]
    fn pooled_rows_are_skipped_without_pgbouncer_and_left_alone_when_not_asked() {
        let url = "postgres://u:secret@127.0.0.1:5432/db";
        assert!(matches!(
            pooled_rows(&[], None, url),
            Pooled::Skip(reason) if reason.contains("not installed")
        ));
        // Not asked for: nothing to skip, whatever the URL or PgBouncer.
        assert_eq!(
            pooled_rows(&args(&["--only", "claims"]), None, ""),
            Pooled::NotAsked
        );
        // `--out pooled` names a file, not the section.
        assert_eq!(
            pooled_rows(
                &args(&["--out", "pooled", "--only", "add"]),
                Some(PathBuf::from("pgbouncer")),
                url
            ),
            Pooled::NotAsked
        );
    }
}
