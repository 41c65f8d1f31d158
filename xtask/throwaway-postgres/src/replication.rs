//! A streaming standby of a throwaway cluster, and the faults of a
//! failover: killing the primary outright and promoting the standby.
//!
//! ```no_run
//! use std::time::Duration;
//! use throwaway_postgres::Cluster;
//!
//! fn main() -> Result<(), throwaway_postgres::Error> {
//!     let mut primary = Cluster::init()?;
//!     // Every commit waits until the standby has it.
//!     primary.start(&[("synchronous_standby_names", "*")])?;
//!     let standby = primary.start_standby(&[])?;
//!     primary.wait_for_standby(true, Duration::from_secs(30))?;
//!     primary.kill()?;
//!     standby.promote()?;
//!     Ok(())
//! }
//! ```

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::binaries::{output_of, run_quietly};
use crate::{Cluster, Error, START_TIMEOUT, SUPERUSER};

/// How often [`Cluster::wait_for_standby`] looks.
const POLL: Duration = Duration::from_millis(100);

impl Cluster {
    /// Makes and starts a streaming standby of this running cluster, with
    /// `settings` appended to its `postgresql.conf` as [`Cluster::start`]
    /// does.
    ///
    /// `pg_basebackup` copies the data directory over the socket and
    /// writes `primary_conninfo`, so the standby streams from this
    /// cluster from the start. It copies `postgresql.conf` too, and with
    /// it any `synchronous_standby_names`: a standby promoted with that
    /// setting and no standby of its own would wait forever on every
    /// commit. The standby's settings therefore clear it first (it means
    /// nothing on a standby), which is what failover managers do at
    /// promotion; `settings` come after and may set it again.
    pub fn start_standby(&self, settings: &[(&str, &str)]) -> Result<Cluster, Error> {
        let port = self.running_port()?;
        let mut standby = Cluster::empty(self.password.clone())?;
        let mut backup = self.binaries.command("pg_basebackup");
        backup.arg("-h").arg(&self.dir);
        backup.args(["-p", &port.to_string(), "-U", SUPERUSER]);
        backup.arg("-D").arg(&standby.data);
        backup.args(["-R", "-X", "stream", "-c", "fast", "--no-sync"]);
        run_quietly(backup, "pg_basebackup")?;
        let mut all = vec![("synchronous_standby_names", "")];
        all.extend_from_slice(settings);
        standby.start(&all)?;
        Ok(standby)
    }

    /// Waits until a standby streams from this cluster and, when
    /// `synchronous`, until it is the synchronous one, so that commits
    /// from then on wait for it.
    pub fn wait_for_standby(&self, synchronous: bool, timeout: Duration) -> Result<(), Error> {
        let wanted = if synchronous { "sync" } else { "async" };
        let sql = "SELECT sync_state FROM pg_stat_replication WHERE state = 'streaming'";
        let until = Instant::now() + timeout;
        loop {
            let states = self.query("postgres", sql)?;
            if states.lines().any(|state| state.trim() == wanted) {
                return Ok(());
            }
            if Instant::now() >= until {
                return Err(Error::new(format!(
                    "no {wanted} standby streamed from the primary within {timeout:?} \
                     (pg_stat_replication: {:?})",
                    states.trim()
                )));
            }
            std::thread::sleep(POLL);
        }
    }

    /// Promotes this standby to a primary (`pg_ctl promote`), waiting until
    /// it accepts writes.
    pub fn promote(&self) -> Result<(), Error> {
        self.running_port()?;
        let mut promote = self.binaries.command("pg_ctl");
        promote.args(["promote", "-w", "-t", START_TIMEOUT, "-D"]);
        promote.arg(&self.data);
        run_quietly(promote, "pg_ctl promote")
    }

    /// Kills the server at once with SIGKILL, the postmaster and every
    /// process it started, as when the machine under a primary dies:
    /// nothing is flushed, no client is told. The cluster stays down; its
    /// directory is removed on drop as usual.
    pub fn kill(&mut self) -> Result<(), Error> {
        self.running_port()?;
        let pid_file = self.data.join("postmaster.pid");
        let text = std::fs::read_to_string(&pid_file)
            .map_err(|e| Error::io(format_args!("reading {}", pid_file.display()), e))?;
        let postmaster = text
            .lines()
            .next()
            .and_then(|line| line.trim().parse::<u32>().ok())
            .ok_or_else(|| Error::new(format!("no process id in {}", pid_file.display())))?;
        // Its children first noted, then all killed together: once the
        // postmaster is gone they would be handed to init.
        let mut victims = vec![postmaster];
        victims.extend(children_of(postmaster));
        // A child may exit on its own meanwhile, which makes `kill` report
        // failure; what matters is that the postmaster is gone after.
        let _ = Command::new("kill")
            .arg("-KILL")
            .args(victims.iter().map(u32::to_string))
            .stderr(std::process::Stdio::null())
            .status();
        let proc = Path::new("/proc").join(postmaster.to_string());
        let until = Instant::now() + Duration::from_secs(10);
        while proc.exists() && parent_of(&proc).is_some() {
            if Instant::now() > until {
                return Err(Error::new(format!(
                    "the postmaster {postmaster} survived SIGKILL"
                )));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        // Without its pid file, drop does not try to stop it again.
        std::fs::remove_file(&pid_file)
            .map_err(|e| Error::io(format_args!("removing {}", pid_file.display()), e))?;
        self.port = 0;
        Ok(())
    }

    /// Runs `sql` in database `dbname` with `psql` over the socket as
    /// [`SUPERUSER`] and returns its unaligned, tuples-only output.
    pub fn query(&self, dbname: &str, sql: &str) -> Result<String, Error> {
        let port = self.running_port()?;
        let mut psql = self.binaries.command("psql");
        psql.args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"]);
        psql.arg("-h").arg(&self.dir);
        psql.args([
            "-p",
            &port.to_string(),
            "-U",
            SUPERUSER,
            "-d",
            dbname,
            "-c",
            sql,
        ]);
        output_of(psql, "psql")
    }
}

/// A URL for [`SUPERUSER`] to database `dbname` that lists every one of
/// `servers` and asks libpq for the one that takes writes, as clients of
/// a replicated cluster connect: after a promotion they find the new
/// primary by themselves. A dead server is refused at once; a hung one
/// after `connect_timeout`.
pub fn read_write_url(servers: &[&Cluster], dbname: &str) -> String {
    let password = servers.first().map_or("", |s| s.password.as_str());
    let hosts: Vec<String> = servers
        .iter()
        .map(|s| format!("127.0.0.1:{}", s.port))
        .collect();
    format!(
        "postgres://{SUPERUSER}:{password}@{}/{dbname}?target_session_attrs=read-write&connect_timeout=2",
        hosts.join(",")
    )
}

/// Process ids whose parent is `parent`, read from `/proc`.
fn children_of(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| parent_of(&Path::new("/proc").join(pid.to_string())) == Some(parent))
        .collect()
}

/// The parent process id in `<proc>/stat`: the fourth field, counted after
/// the command name, which is in parentheses and may hold spaces.
fn parent_of(proc: &Path) -> Option<u32> {
    let stat = std::fs::read_to_string(proc.join("stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parent_is_read_after_a_command_name_with_spaces() {
        let dir = std::env::temp_dir().join(format!("throwaway-stat-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("stat"), "4242 (postgres: a b) S 17 4242 4242 0").unwrap();
        assert_eq!(parent_of(&dir), Some(17));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn our_own_process_is_a_child_of_its_parent() {
        let me = std::process::id();
        let parent = parent_of(Path::new("/proc/self")).expect("our parent");
        assert!(children_of(parent).contains(&me));
    }
}
