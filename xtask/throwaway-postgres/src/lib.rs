//! A private PostgreSQL server that lives in a temporary directory and is
//! gone when its [`Cluster`] is dropped.
//!
//! ```no_run
//! use throwaway_postgres::Cluster;
//!
//! fn main() -> Result<(), throwaway_postgres::Error> {
//!     let mut cluster = Cluster::init()?;
//!     // Settings go into postgresql.conf; this data is thrown away anyway.
//!     cluster.start(&[("fsync", "off")])?;
//!     cluster.createdb("scratch")?;
//!     println!("connect with {}", cluster.url("scratch"));
//!     Ok(())
//! } // Dropping the cluster stops the server and deletes its directory.
//! ```
//!
//! [`Cluster::init`] runs `initdb` into a new directory under the system's
//! temporary directory; [`Cluster::start`] starts the server on a free
//! loopback port with its socket in that directory. Connections over TCP
//! need the superuser's random [`Cluster::password`]; connections over the
//! socket need none ([`Cluster::socket_conninfo`]).
//!
//! The server binaries come from `PATH`, else from the newest
//! `/usr/lib/postgresql/*/bin`. When the process runs as root they run as
//! the `postgres` user (or `nobody`), since PostgreSQL refuses to run as
//! root.

mod binaries;
mod error;
mod replication;

use std::fmt;
use std::io::ErrorKind;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use binaries::{run_quietly, Binaries};
pub use error::Error;
pub use replication::read_write_url;

/// The superuser `initdb` creates; it logs in with [`Cluster::password`]
/// over TCP and without one over the socket.
pub const SUPERUSER: &str = "postgres";

/// Seconds `pg_ctl` waits for the server to come up.
pub(crate) const START_TIMEOUT: &str = "60";

/// A PostgreSQL cluster of our own, initialised and, after
/// [`Cluster::start`], running.
///
/// Dropping it stops the server (`pg_ctl stop -m immediate`: the data is
/// thrown away, so there is nothing to flush) and removes its directory;
/// failures then are reported on stderr. [`Cluster::remove`] does the same
/// and returns them instead.
pub struct Cluster {
    binaries: Binaries,
    /// The temporary directory: data directory, socket, log.
    dir: PathBuf,
    data: PathBuf,
    password: String,
    /// The loopback port; 0 until started.
    port: u16,
    /// Set once the cluster is stopped and its directory removed, so that
    /// drop does not try again after [`Cluster::remove`].
    removed: bool,
}

impl Cluster {
    /// Runs `initdb` into a new temporary directory named
    /// `coordinate-pg-<pid>-<n>`: superuser [`SUPERUSER`], encoding UTF8,
    /// no locale, `scram-sha-256` with a random password for host
    /// connections and `trust` for socket ones.
    ///
    /// Files the server needs before it starts go in with
    /// [`Cluster::put_file`]; then [`Cluster::start`] it.
    pub fn init() -> Result<Cluster, Error> {
        let cluster = Cluster::empty(random_password())?;
        cluster.initdb()?;
        Ok(cluster)
    }

    /// A cluster whose temporary directory exists but holds no data
    /// directory yet: `initdb` or `pg_basebackup` makes that.
    fn empty(password: String) -> Result<Cluster, Error> {
        let binaries = Binaries::locate()?;
        let dir = make_temp_dir()?;
        // From here on, dropping the cluster removes the directory.
        let cluster = Cluster {
            binaries,
            data: dir.join("data"),
            dir,
            password,
            port: 0,
            removed: false,
        };
        // Only the server user (and root) may look inside: a password
        // file may lie here for a moment.
        std::fs::set_permissions(&cluster.dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| Error::io(format_args!("chmod {}", cluster.dir.display()), e))?;
        cluster.binaries.give_to_server_user(&cluster.dir)?;
        Ok(cluster)
    }

    fn initdb(&self) -> Result<(), Error> {
        let pwfile = self.dir.join("pwfile");
        write_file(&pwfile, format!("{}\n", self.password))?;
        self.binaries.give_to_server_user(&pwfile)?;

        let mut initdb = self.binaries.command("initdb");
        initdb.arg("-D").arg(&self.data);
        initdb.args(["-U", SUPERUSER, "-E", "UTF8", "--no-locale", "--no-sync"]);
        initdb.args(["--auth-local=trust", "--auth-host=scram-sha-256"]);
        initdb.arg(format!("--pwfile={}", pwfile.display()));
        run_quietly(initdb, "initdb")?;
        // The password lives on in memory only; drop removes the file with
        // the directory should this fail.
        std::fs::remove_file(&pwfile)
            .map_err(|e| Error::io(format_args!("removing {}", pwfile.display()), e))
    }

    /// Writes `contents` to `name` in the data directory, readable only by
    /// the server's user (as PostgreSQL demands of a private key), and
    /// returns its path. Relative paths in settings such as
    /// `ssl_cert_file` are relative to the data directory.
    pub fn put_file(&self, name: &str, contents: impl AsRef<[u8]>) -> Result<PathBuf, Error> {
        let path = self.data.join(name);
        write_file(&path, contents)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| Error::io(format_args!("chmod {}", path.display()), e))?;
        self.binaries.give_to_server_user(&path)?;
        Ok(path)
    }

    /// Starts the server with `settings` (name, value) appended to
    /// `postgresql.conf`, so that `ALTER SYSTEM` can still change them.
    ///
    /// The cluster sets `port` (a free one), `listen_addresses`
    /// (`127.0.0.1` only) and `unix_socket_directories` (its directory)
    /// itself, after `settings`. On failure the error holds the server
    /// log.
    pub fn start(&mut self, settings: &[(&str, &str)]) -> Result<(), Error> {
        if self.port != 0 {
            return Err(Error::new("the throwaway server is already running"));
        }
        let port = free_port()?;
        let socket_dir = self.dir.to_string_lossy().into_owned();
        let port_text = port.to_string();
        let own = [
            ("port", port_text.as_str()),
            ("listen_addresses", "127.0.0.1"),
            ("unix_socket_directories", socket_dir.as_str()),
        ];
        let conf = self.data.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf)
            .map_err(|e| Error::io(format_args!("reading {}", conf.display()), e))?;
        text.push_str("\n# Added by throwaway-postgres.\n");
        for (name, value) in settings.iter().chain(&own) {
            // Single quotes in a value are doubled inside the quoted string.
            text.push_str(&format!("{name} = '{}'\n", value.replace('\'', "''")));
        }
        write_file(&conf, text)?;

        let log = self.log();
        let mut start = self.binaries.command("pg_ctl");
        start.args(["start", "-w", "-t", START_TIMEOUT, "-D"]);
        start.arg(&self.data).arg("-l").arg(&log);
        if let Err(e) = run_quietly(start, "pg_ctl start") {
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            return Err(Error::new(format!("{e}\nserver log:\n{log}")));
        }
        self.port = port;
        Ok(())
    }

    /// Creates database `name`, owned by [`SUPERUSER`].
    pub fn createdb(&self, name: &str) -> Result<(), Error> {
        let port = self.running_port()?;
        let mut createdb = self.binaries.command("createdb");
        createdb.arg("-h").arg(&self.dir);
        createdb.args(["-p", &port.to_string(), "-U", SUPERUSER, name]);
        run_quietly(createdb, "createdb")
    }

    /// Restarts the server (`pg_ctl restart -m fast`): every connection is
    /// cut, and the server comes back on the same port with the same data.
    pub fn restart(&self) -> Result<(), Error> {
        self.running_port()?;
        let mut restart = self.binaries.command("pg_ctl");
        restart.args(["restart", "-m", "fast", "-w", "-t", START_TIMEOUT, "-D"]);
        restart.arg(&self.data).arg("-l").arg(self.log());
        run_quietly(restart, "pg_ctl restart")
    }

    /// The loopback port the server listens on; 0 until
    /// [`Cluster::start`] succeeds.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The password of [`SUPERUSER`] for TCP connections: random, and long
    /// and distinctive enough for a test to search error text for it.
    pub fn password(&self) -> &str {
        &self.password
    }

    /// The temporary directory (socket, log, data directory), removed with
    /// the cluster; the caller may put its own files here too.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The directory of the server binaries; client programs such as
    /// `psql` usually sit next to them.
    pub fn bin_dir(&self) -> &Path {
        &self.binaries.bin
    }

    /// A URL for [`SUPERUSER`] with the password over TCP to database
    /// `dbname` (which must need no percent-encoding).
    pub fn url(&self, dbname: &str) -> String {
        format!(
            "postgres://{SUPERUSER}:{}@127.0.0.1:{}/{dbname}",
            self.password, self.port
        )
    }

    /// A libpq `key=value` connection string for [`SUPERUSER`] over the
    /// socket to database `dbname`: no password, no TLS.
    pub fn socket_conninfo(&self, dbname: &str) -> String {
        format!(
            "host={} port={} user={SUPERUSER} dbname={}",
            conninfo_quote(&self.dir.to_string_lossy()),
            self.port,
            conninfo_quote(dbname)
        )
    }

    /// Stops the server and removes the directory now, returning what
    /// went wrong rather than printing it as drop does.
    pub fn remove(mut self) -> Result<(), Error> {
        self.teardown()
    }

    fn teardown(&mut self) -> Result<(), Error> {
        if self.removed {
            return Ok(());
        }
        self.removed = true;
        // The pid file, not `port`, tells whether a server may be up: a
        // start that timed out can leave one running.
        let stopped = if self.data.join("postmaster.pid").exists() {
            let mut stop = self.binaries.command("pg_ctl");
            stop.args(["stop", "-m", "immediate", "-w", "-D"]);
            stop.arg(&self.data);
            run_quietly(stop, "pg_ctl stop")
        } else {
            Ok(())
        };
        let removed = std::fs::remove_dir_all(&self.dir)
            .map_err(|e| Error::io(format_args!("removing {}", self.dir.display()), e));
        match (stopped, removed) {
            (Err(stop), Err(remove)) => Err(Error::new(format!("{stop}\n{remove}"))),
            (Err(e), Ok(())) | (Ok(()), Err(e)) => Err(e),
            (Ok(()), Ok(())) => Ok(()),
        }
    }

    fn running_port(&self) -> Result<u16, Error> {
        match self.port {
            0 => Err(Error::new("the throwaway server has not been started")),
            port => Ok(port),
        }
    }

    fn log(&self) -> PathBuf {
        self.dir.join("server.log")
    }
}

/// Leaves the password out: debug output ends up in logs.
impl fmt::Debug for Cluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cluster")
            .field("bin_dir", &self.binaries.bin)
            .field("dir", &self.dir)
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Err(e) = self.teardown() {
            eprintln!("throwaway-postgres: {e}");
        }
    }
}

/// Creates `coordinate-pg-<pid>-<n>` in the temporary directory, taking the
/// next `n` that nobody has: `create_dir` fails rather than reuse one, so
/// clusters made at once (threads of one test binary) cannot share.
fn make_temp_dir() -> Result<PathBuf, Error> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let base = std::env::temp_dir();
    for _ in 0..1000 {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = base.join(format!("coordinate-pg-{}-{n}", std::process::id()));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            // Left by an earlier process with our pid, or taken just now.
            Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::io(format_args!("creating {}", dir.display()), e)),
        }
    }
    Err(Error::new(format!(
        "could not create a temporary directory under {}",
        base.display()
    )))
}

/// A loopback port that is free now. Another process may take it before
/// the server binds it; then the start fails and says so.
fn free_port() -> Result<u16, Error> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .map_err(|e| Error::io("finding a free port", e))
}

/// 128 random bits in hex, from the standard library's randomly keyed
/// hasher (no dependency needed for a password that lives minutes).
fn random_password() -> String {
    use std::hash::{BuildHasher, RandomState};
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let half = |salt: u8| RandomState::new().hash_one((nanos, std::process::id(), salt));
    format!("pw-{:016x}{:016x}", half(0), half(1))
}

/// A value quoted for a libpq connection string.
fn conninfo_quote(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn write_file(path: &Path, contents: impl AsRef<[u8]>) -> Result<(), Error> {
    std::fs::write(path, contents)
        .map_err(|e| Error::io(format_args!("writing {}", path.display()), e))
}
