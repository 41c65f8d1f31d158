//! Developer and CI tasks for the coordinate workspace.
//!
//! Run as `cargo xtask <command> [-- <arguments for the test runner>]`:
//!
//! - `conformance`: the whole test suite (every crate, both backends, doc
//!   tests) against the PostgreSQL server in `DATABASE_URL`/`PGHOST`, or
//!   against a throwaway server started for the run and removed afterwards.
//! - `demo`: the pipeline example (two chained work specs, several workers)
//!   against the same kind of server.
//! - `bench`: the throughput benchmark in release mode, against the
//!   configured server or a throwaway one with production durability;
//!   prints a table and writes `target/bench/results.json`.
//! - `stress`: worker processes under injected faults (terminated
//!   connections, a killed worker, a server restart), then invariant
//!   checks in SQL; `--long` for the 20,000-unit run, `--failover` for a
//!   primary killed and its standby promoted instead.
//! - `serve`: the `coordinated` server and its dashboard on the same kind
//!   of server, with the pipeline example working in it, until Ctrl-C.
//! - `ci`: every step of continuous integration in order (lints, docs,
//!   the workflow lint, `conformance`, the long and failover stress runs,
//!   the demo, the memory pipeline); `.ci/run` and the GitHub workflow both run it.
//!
//! Its tests include the tidy checks (`tidy.rs`): layout and code rules
//! no compiler checks, run with the rest of the suite.

mod bench;
mod ci;
mod conformance;
mod demo;
mod pgbouncer;
mod process;
mod serve;
mod stress;
mod throwaway;
#[cfg(test)]
mod tidy;

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

const USAGE: &str = "\
usage: cargo xtask <command> [-- <test runner arguments>]

commands:
  conformance   run every test against both backends, then the short
                stress run (starts a throwaway PostgreSQL unless
                DATABASE_URL or PGHOST is set), then the PostgreSQL suite
                through PgBouncer when pgbouncer is installed
  demo          run the pipeline example on PostgreSQL (same server rules);
                arguments after -- go to the example (try -- --help)
  bench         measure throughput and scale (release build; same server
                rules, a throwaway server runs with fsync and
                synchronous_commit on); prints a table and writes
                target/bench/results.json. Options: --quick (about a
                minute), --out <path>, --no-go (skip the go-coordinate
                replay), --only <section> (claims, runtime, pooled, rest,
                add, scale, prune, wakeup, memory, profile). The pooled rows
                need pgbouncer and a DATABASE_URL with a password; without
                them they are skipped, saying why. The rest rows go through
                coordinated, built in release first
  stress        many worker processes drain chained work specs while
                connections are terminated, a worker is SIGKILLed and the
                (throwaway) server restarts; SQL checks afterwards. Options:
                --long (20,000 units instead of 2,000), --units <n>,
                --processes <p>, --threads <t>, --seed <s>, --no-faults,
                --transactional (handlers finish in their own transactions);
                --failover [--async] [--promote-delay-ms <ms>]: a primary
                and a standby of its own, the primary SIGKILLed midway
  serve         start coordinated (go-coordinate's REST server and its
                dashboard) on PostgreSQL (same server rules) at
                http://127.0.0.1:5980, with the pipeline example running
                in it (--no-pipeline: without); arguments after -- go to
                coordinated; Ctrl-C stops everything
  ci            every CI step in order: fmt, clippy, doc, actionlint,
                conformance, stress --long, --transactional and
                --failover, demo, the memory pipeline.
                Options: --skip <step> (repeatable), --list
";

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let command = args.next();
    let rest: Vec<String> = args.skip_while(|a| a == "--").collect();
    match command.as_deref() {
        Some("conformance") => conformance::run(&rest),
        Some("demo") => demo::run(&rest),
        Some("bench") => bench::run(&rest),
        Some("stress") => stress::run(&rest),
        Some("ci") => ci::run(&rest),
        Some("serve") => serve::run(&rest),
        Some("-h" | "--help" | "help") | None => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => bail!("unknown command {other:?}\n\n{USAGE}"),
    }
}

/// The workspace root: xtask lives one level below it.
fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}
