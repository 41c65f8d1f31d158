//! `cargo xtask conformance`: every test of the workspace, both backends.

use anyhow::Result;

use crate::process::{cargo, has_nextest, run_checked};
use crate::throwaway::Database;

/// Runs the short `stress` run, then the workspace's tests (with nextest
/// when installed) and its doc tests against a PostgreSQL server, then the
/// PgBouncer lane when `pgbouncer` is installed.
pub fn run(runner_args: &[String]) -> Result<()> {
    let database = Database::from_env_or_throwaway()?;
    // The stress run goes first, on a server as fresh as the other stress
    // runs find theirs. Run after the whole suite, its SIGTERMed worker
    // three times took 2.8-3.7 s to exit (the runtime's own stop 0.26 s
    // of it, the one time that was measured); on a fresh server it has
    // always taken under 0.5 s. What the rest was is not known yet: the
    // worker now prints where its exit time goes.
    let result = crate::stress::run_on(&database, &crate::stress::Settings::short())
        .and_then(|()| run_tests(database.url(), runner_args))
        .and_then(|()| crate::pgbouncer::run(database.url()));
    drop(database);
    result
}

fn run_tests(database_url: &str, runner_args: &[String]) -> Result<()> {
    let nextest = has_nextest();
    let mut tests = cargo();
    if nextest {
        tests.args(["nextest", "run", "--workspace", "--no-fail-fast"]);
    } else {
        eprintln!("xtask: cargo-nextest not found, using cargo test");
        tests.args(["test", "--workspace", "--no-fail-fast"]);
    }
    tests.args(runner_args).env("DATABASE_URL", database_url);
    run_checked(tests, "tests")?;

    if nextest {
        // nextest does not run doc tests.
        let mut doc = cargo();
        doc.args(["test", "--workspace", "--doc"])
            .env("DATABASE_URL", database_url);
        run_checked(doc, "doc tests")?;
    }
    Ok(())
}
