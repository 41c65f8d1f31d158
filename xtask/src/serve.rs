//! `cargo xtask serve`: `coordinated` on a throwaway PostgreSQL, for a
//! newcomer to try the server (and, with `--pipeline`, to watch work flow
//! through it); Ctrl-C stops the server and removes the database server.

use std::process::Command;

use anyhow::Result;

use crate::process::{cargo, run_checked};
use crate::throwaway::Database;

/// Starts `coordinated` against the configured server or a throwaway one;
/// extra arguments go to `coordinated` (`-http 127.0.0.1:5980` unless they
/// name another).
pub fn run(server_args: &[String]) -> Result<()> {
    let database = Database::from_env_or_throwaway()?;
    let mut server: Command = cargo();
    server.args(["run", "--package", "coordinated", "--"]);
    // The connection string (with its password) travels in the
    // environment, never on a command line that cargo echoes; empty, libpq
    // reads PGHOST and friends.
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
    server.args(server_args);
    eprintln!("xtask: coordinated on http://127.0.0.1:5980 (unless -http says otherwise); Ctrl-C stops it");
    let result = match run_checked(server, "coordinated") {
        // Ctrl-C is how this command ends: the server drained and stopped.
        Err(_) if crate::throwaway::interrupted() => Ok(()),
        other => other,
    };
    drop(database);
    result
}
