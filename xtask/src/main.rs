//! Developer and CI tasks for the coordinate workspace.
//!
//! Run as `cargo xtask <command> [-- <arguments for the test runner>]`:
//!
//! - `conformance`: the whole test suite (every crate, both backends, doc
//!   tests) against the PostgreSQL server in `DATABASE_URL`/`PGHOST`, or
//!   against a throwaway server started for the run and removed afterwards.
//! - `demo`: the pipeline example (two chained work specs, several workers)
//!   against the same kind of server.

mod conformance;
mod demo;
mod throwaway;

use anyhow::{bail, Result};

const USAGE: &str = "\
usage: cargo xtask <command> [-- <test runner arguments>]

commands:
  conformance   run every test against both backends (starts a throwaway
                PostgreSQL unless DATABASE_URL or PGHOST is set)
  demo          run the pipeline example on PostgreSQL (same server rules);
                arguments after -- go to the example (try -- --help)
";

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let command = args.next();
    let rest: Vec<String> = args.skip_while(|a| a == "--").collect();
    match command.as_deref() {
        Some("conformance") => conformance::run(&rest),
        Some("demo") => demo::run(&rest),
        Some("-h" | "--help" | "help") | None => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => bail!("unknown command {other:?}\n\n{USAGE}"),
    }
}
