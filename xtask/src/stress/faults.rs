//! Fault injection and progress for the stress run, through `psql`: the
//! xtask has no database driver of its own.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use crate::throwaway::Database;

use super::{nanos, APP_NAME};

/// What the fault injector did.
#[derive(Default)]
pub struct Faults {
    pub terminated: AtomicU64,
    pub injector_errors: AtomicU64,
    pub kills: AtomicU64,
    pub sigterms: AtomicU64,
    pub restarts: AtomicU64,
    /// Set while the SIGTERMed worker's stop is timed: its promise (grace
    /// plus 1 s) is for a database that answers, and one connection killed
    /// mid-stop once made a stop take 3.2 s. Kills before and after it go
    /// on, and nothing may be lost either way.
    pub held: AtomicBool,
}

/// Every few hundred milliseconds, terminates one random connection of the
/// worker processes, until `stop`.
pub fn terminate_connections(psql: &PathBuf, url: &str, faults: &Faults, stop: &AtomicBool) {
    let mut state = nanos() | 1;
    let sql = format!(
        "SELECT pg_terminate_backend(pid) FROM (SELECT pid FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid() \
         AND application_name = '{APP_NAME}' ORDER BY random() LIMIT 1) victim"
    );
    while !stop.load(Ordering::SeqCst) {
        // xorshift: no dependency needed for a pause between 200 and 500 ms.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        std::thread::sleep(Duration::from_millis(200 + state % 300));
        if faults.held.load(Ordering::SeqCst) {
            continue;
        }
        match run_psql(psql, url, &sql) {
            Some(out) if out.trim() == "t" => {
                faults.terminated.fetch_add(1, Ordering::Relaxed);
            }
            Some(_) => {}
            None => {
                faults.injector_errors.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Finished or failed `stage1` units of the namespace.
pub fn progress(psql: &PathBuf, url: &str, namespace: &str) -> Option<usize> {
    let sql = format!(
        "SELECT count(*) FROM work_unit u JOIN work_spec s ON s.id = u.work_spec_id \
         JOIN namespace n ON n.id = s.namespace_id JOIN attempt a ON a.id = u.active_attempt_id \
         WHERE n.name = '{namespace}' AND s.name = 'stage1' AND a.status IN ('finished', 'failed')"
    );
    run_psql(psql, url, &sql)?.trim().parse().ok()
}

/// Runs one statement with psql; its unaligned output, or `None` on error.
fn run_psql(psql: &PathBuf, url: &str, sql: &str) -> Option<String> {
    let mut command = Command::new(psql);
    command.args(["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-c", sql]);
    let conn = libpq_string(url);
    if !conn.is_empty() {
        command.args(["-d", &conn]);
    }
    command
        .env("PGCONNECT_TIMEOUT", "3")
        .env("PGAPPNAME", "coordinate-stress-xtask");
    let output = command.stderr(Stdio::null()).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The connection string as libpq itself understands it: the backend also
/// takes `//host/db` and `postgres:key=value`.
fn libpq_string(conn: &str) -> String {
    if let Some(rest) = conn.strip_prefix("//") {
        format!("postgres://{rest}")
    } else if conn.starts_with("postgres:") && !conn.starts_with("postgres://") {
        conn["postgres:".len()..].to_owned()
    } else {
        conn.to_owned()
    }
}

/// `psql`: next to the throwaway server's binaries, on `PATH`, or under
/// `/usr/lib/postgresql/*/bin`.
pub fn find_psql(database: &Database) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = database
        .server()
        .map(|s| s.bin_dir().to_path_buf())
        .into_iter()
        .collect();
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .collect();
    versions.sort();
    dirs.extend(versions.into_iter().rev());
    dirs.into_iter()
        .map(|d| d.join("psql"))
        .find(|p| p.is_file())
}
