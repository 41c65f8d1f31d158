//! A PostgreSQL server that lives for one xtask run.
//!
//! When neither `DATABASE_URL` nor `PGHOST` names a server, the run gets its
//! own: `initdb` into a temporary directory, a free loopback port, the socket
//! in that directory, durability off for tests (this data is thrown away) or
//! on for benchmarks ([`Durability`]). Dropping the [`Database`] stops the
//! server and removes the directory, also after a failed run or Ctrl-C.
//! Making, starting and removing the server is `throwaway-postgres`'s
//! work; what is xtask's is the choice of server, its settings, the test
//! database and the signal handling.

use std::path::Path;
use std::process::{Child, Command, ExitStatus};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use anyhow::{Context, Result};
use throwaway_postgres::Cluster;

/// Database that the test suite uses on a throwaway server.
const TEST_DATABASE: &str = "coordinate_test";

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// Process id of the running test command, so a signal can stop it.
static CHILD: AtomicU32 = AtomicU32::new(0);

/// Waits for a child command; on Ctrl-C or SIGTERM the child is stopped
/// too, so that the caller can clean up promptly.
pub fn wait_interruptibly(mut child: Child) -> Result<ExitStatus> {
    CHILD.store(child.id(), Ordering::SeqCst);
    let status = child.wait().context("waiting for a child process");
    CHILD.store(0, Ordering::SeqCst);
    status
}

fn on_signal() {
    INTERRUPTED.store(true, Ordering::SeqCst);
    let child = CHILD.load(Ordering::SeqCst);
    if child != 0 {
        // A terminal's Ctrl-C reaches the child too; SIGTERM sent to us alone
        // does not, so pass it on. Failure only means the child is gone.
        let _ = Command::new("kill").arg(child.to_string()).status();
    }
}

/// Whether the run was interrupted (Ctrl-C / SIGTERM).
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// How a throwaway server treats commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// fsync, synchronous_commit and full_page_writes off: tests run
    /// faster and the data is thrown away anyway.
    Off,
    /// PostgreSQL's production defaults (all three on), so that
    /// benchmark figures include the cost of making commits durable.
    Production,
}

/// The database a run talks to.
pub enum Database {
    /// A server the user configured; left running.
    External(String),
    /// A server started for this run; stopped and removed on drop.
    Throwaway(Server),
}

impl Database {
    /// The user's server if `DATABASE_URL` or `PGHOST` is set, otherwise a
    /// new throwaway server.
    pub fn from_env_or_throwaway() -> Result<Database> {
        Self::from_env_or(Durability::Off)
    }

    /// Like [`Database::from_env_or_throwaway`], with the throwaway
    /// server's durability chosen.
    pub fn from_env_or(durability: Durability) -> Result<Database> {
        if let Ok(url) = std::env::var("DATABASE_URL") {
            eprintln!("xtask: using the server in DATABASE_URL");
            return Ok(Database::External(url));
        }
        if std::env::var_os("PGHOST").is_some() {
            eprintln!("xtask: using the server named by the PG* environment variables");
            // An empty connection string makes libpq read PGHOST and friends.
            return Ok(Database::External(String::new()));
        }
        Ok(Database::Throwaway(Server::start(durability)?))
    }

    /// Connection string for the tests.
    pub fn url(&self) -> &str {
        match self {
            Database::External(url) => url,
            Database::Throwaway(server) => &server.url,
        }
    }
}

/// A running throwaway server with the test database.
pub struct Server {
    /// `None` only while dropping, when the cluster is removed.
    cluster: Option<Cluster>,
    url: String,
}

impl Server {
    /// Starts a fresh server and creates the test database.
    pub fn start(durability: Durability) -> Result<Server> {
        // Before anything is made: a Ctrl-C then only sets a flag (and
        // stops the child), so the run unwinds and drop removes the server.
        if let Err(e) = ctrlc::set_handler(on_signal) {
            eprintln!(
                "xtask: cannot catch Ctrl-C ({e}); an interrupted run may leave a server behind"
            );
        }
        // From here on, dropping `server` stops and removes the cluster.
        let mut server = Server {
            cluster: Some(Cluster::init()?),
            url: String::new(),
        };
        let cluster = server.cluster_mut();
        cluster.start(&settings(durability, cluster.bin_dir()))?;
        cluster.createdb(TEST_DATABASE)?;
        let url = cluster.url(TEST_DATABASE);
        eprintln!(
            "xtask: throwaway PostgreSQL on 127.0.0.1:{}, data in {}",
            cluster.port(),
            cluster.dir().display()
        );
        server.url = url;
        Ok(server)
    }

    fn cluster(&self) -> &Cluster {
        self.cluster
            .as_ref()
            .expect("the cluster is only taken on drop")
    }

    fn cluster_mut(&mut self) -> &mut Cluster {
        self.cluster
            .as_mut()
            .expect("the cluster is only taken on drop")
    }
}

/// The server settings for `durability`, plus room for the stress run's
/// connections and enough memory that the benchmark measures PostgreSQL
/// rather than a tiny cache.
fn settings(durability: Durability, bin: &Path) -> Vec<(&'static str, &'static str)> {
    let mut settings = match durability {
        Durability::Off => vec![
            ("fsync", "off"),
            ("synchronous_commit", "off"),
            ("full_page_writes", "off"),
        ],
        // The defaults, spelled out.
        Durability::Production => vec![
            ("fsync", "on"),
            ("synchronous_commit", "on"),
            ("full_page_writes", "on"),
        ],
    };
    // pg_stat_statements (when the server has it) lets a benchmark run
    // count statements.
    if durability == Durability::Production && bin.join("../lib/pg_stat_statements.so").exists() {
        settings.push(("shared_preload_libraries", "pg_stat_statements"));
    }
    settings.extend([("max_connections", "400"), ("shared_buffers", "256MB")]);
    settings
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(cluster) = self.cluster.take() {
            match cluster.remove() {
                Ok(()) => eprintln!("xtask: throwaway PostgreSQL stopped and removed"),
                Err(e) => eprintln!("xtask: {e}"),
            }
        }
    }
}

/// Access for the stress run's fault injection.
impl Database {
    /// The throwaway server, when this run started one.
    pub fn server(&self) -> Option<&Server> {
        match self {
            Database::External(_) => None,
            Database::Throwaway(server) => Some(server),
        }
    }
}

impl Server {
    /// Restarts the server (`pg_ctl restart -m fast`): every connection is
    /// cut, and the server comes back on the same port with the same data.
    pub fn restart(&self) -> Result<()> {
        Ok(self.cluster().restart()?)
    }

    /// The directory of the server binaries (`psql` sits next to them).
    pub fn bin_dir(&self) -> &Path {
        self.cluster().bin_dir()
    }
}

/// How a replicated pair's standby confirms the primary's commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replication {
    /// Every commit waits until the standby has flushed it
    /// (`synchronous_standby_names = '*'`): a promoted standby has every
    /// commit a client was told about.
    Synchronous,
    /// Commits do not wait: the standby may lag, and a failover may lose
    /// the last commits.
    Asynchronous,
}

/// A primary and its streaming standby, started for this run and removed
/// on drop, for failover runs.
pub struct ReplicatedServers {
    pub primary: Cluster,
    pub standby: Cluster,
    /// Lists both servers and asks for the writable one, so clients
    /// follow a promotion by themselves.
    url: String,
}

impl ReplicatedServers {
    /// Starts both servers with the test database. Durability is off on
    /// disk (the data is thrown away) but commits wait for the standby
    /// when `replication` is synchronous.
    pub fn start(replication: Replication) -> Result<ReplicatedServers> {
        // As for a single server: a Ctrl-C then unwinds and drop removes
        // both.
        if let Err(e) = ctrlc::set_handler(on_signal) {
            eprintln!(
                "xtask: cannot catch Ctrl-C ({e}); an interrupted run may leave servers behind"
            );
        }
        let mut primary = Cluster::init()?;
        let settings = [
            ("fsync", "off"),
            ("synchronous_commit", "on"),
            ("max_connections", "400"),
        ];
        primary.start(&settings)?;
        primary.createdb(TEST_DATABASE)?;
        let standby = primary.start_standby(&[])?;
        // Only now: with no standby yet, every commit would wait forever.
        if replication == Replication::Synchronous {
            primary.query(
                "postgres",
                "ALTER SYSTEM SET synchronous_standby_names = '*'",
            )?;
            primary.query("postgres", "SELECT pg_reload_conf()")?;
        }
        primary.wait_for_standby(
            replication == Replication::Synchronous,
            std::time::Duration::from_secs(60),
        )?;
        let url = throwaway_postgres::read_write_url(&[&primary, &standby], TEST_DATABASE);
        eprintln!(
            "xtask: throwaway primary on 127.0.0.1:{} with a {} standby on 127.0.0.1:{}",
            primary.port(),
            match replication {
                Replication::Synchronous => "synchronous",
                Replication::Asynchronous => "asynchronous",
            },
            standby.port()
        );
        Ok(ReplicatedServers {
            primary,
            standby,
            url,
        })
    }

    /// The connection string listing both servers.
    pub fn url(&self) -> &str {
        &self.url
    }
}
