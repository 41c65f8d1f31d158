//! `cargo xtask serve`: `coordinated` on a throwaway PostgreSQL, for a
//! newcomer to try the server (and, with `--pipeline`, to watch work flow
//! through it); Ctrl-C stops the server and removes the database server.

use std::process::Command;

use anyhow::{Context, Result};

use crate::pgbouncer::Upstream;
use crate::process::{cargo, run_checked};
use crate::throwaway::Database;

/// Starts `coordinated` against the configured server or a throwaway one;
/// extra arguments go to `coordinated` (`-http 127.0.0.1:5980` unless they
/// name another).
pub fn run(server_args: &[String]) -> Result<()> {
    let database = Database::from_env_or_throwaway()?;
    let mut server: Command = cargo();
    server.args(["run", "--package", "coordinated", "--"]);
    // The password travels in libpq's environment, never on a command line
    // that cargo echoes: `-backend postgres:` reads PGHOST and friends.
    if !database.url().is_empty() {
        let upstream = Upstream::parse(database.url())
            .ok()
            .context("serve needs the server as a postgres://user:password@host:port/db URL")?;
        server
            .env("PGHOST", &upstream.host)
            .env("PGPORT", &upstream.port)
            .env("PGUSER", &upstream.user)
            .env("PGPASSWORD", &upstream.password)
            .env("PGDATABASE", &upstream.dbname);
    }
    server.args(["-backend", "postgres:"]);
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
