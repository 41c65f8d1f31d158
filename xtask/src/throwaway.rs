//! A PostgreSQL server that lives for one xtask run.
//!
//! When neither `DATABASE_URL` nor `PGHOST` names a server, the run gets its
//! own: `initdb` into a temporary directory, a free loopback port, the socket
//! in that directory, durability off for tests (this data is thrown away) or
//! on for benchmarks ([`Durability`]). Dropping the [`Database`] stops the
//! server and removes the directory, also after a failed run or Ctrl-C.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};

/// Database that the test suite uses on a throwaway server.
const TEST_DATABASE: &str = "coordinate_test";
/// Superuser of a throwaway server.
const SUPERUSER: &str = "postgres";

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

/// A running throwaway server.
pub struct Server {
    bin: PathBuf,
    dir: PathBuf,
    data: PathBuf,
    run_as: Option<String>,
    url: String,
}

impl Server {
    /// Starts a fresh server and creates the test database.
    pub fn start(durability: Durability) -> Result<Server> {
        let bin = find_server_binaries()?;
        let run_as = unprivileged_user()?;
        let dir = make_temp_dir()?;
        // From here on, dropping `server` cleans up whatever was made.
        let mut server = Server {
            data: dir.join("data"),
            bin,
            dir,
            run_as,
            url: String::new(),
        };
        let handler_result = ctrlc::set_handler(on_signal);
        if let Err(e) = handler_result {
            eprintln!(
                "xtask: cannot catch Ctrl-C ({e}); an interrupted run may leave a server behind"
            );
        }
        server.init_and_start(durability)?;
        Ok(server)
    }

    fn init_and_start(&mut self, durability: Durability) -> Result<()> {
        let password = random_password();
        let pwfile = self.dir.join("pwfile");
        std::fs::write(&pwfile, format!("{password}\n"))?;
        self.give_to_server_user(&self.dir)?;
        self.give_to_server_user(&pwfile)?;

        let data = self.data.to_string_lossy().into_owned();
        let mut initdb = self.server_command("initdb");
        initdb.args(["-D", &data, "-U", SUPERUSER, "-E", "UTF8", "--no-locale"]);
        initdb.args(["--auth-local=trust", "--auth-host=scram-sha-256"]);
        initdb.arg(format!("--pwfile={}", pwfile.display()));
        run_quietly(initdb, "initdb")?;

        let port = free_port()?;
        let durability = match durability {
            Durability::Off => "-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            // The defaults, spelled out; pg_stat_statements (when the
            // server has it) lets a benchmark run count statements.
            Durability::Production if self.bin.join("../lib/pg_stat_statements.so").exists() => {
                "-c fsync=on -c synchronous_commit=on -c full_page_writes=on \
                 -c shared_preload_libraries=pg_stat_statements"
            }
            Durability::Production => "-c fsync=on -c synchronous_commit=on -c full_page_writes=on",
        };
        let options = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={dir} \
             {durability} -c max_connections=400 -c shared_buffers=256MB",
            dir = self.dir.display()
        );
        let log = self.dir.join("server.log").to_string_lossy().into_owned();
        let mut start = self.server_command("pg_ctl");
        start.args([
            "start", "-w", "-t", "60", "-D", &data, "-l", &log, "-o", &options,
        ]);
        if let Err(e) = run_quietly(start, "pg_ctl start") {
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            bail!("{e:#}\nserver log:\n{log}");
        }

        let mut createdb = self.server_command("createdb");
        createdb.args(["-h", &self.dir.to_string_lossy(), "-p", &port.to_string()]);
        createdb.args(["-U", SUPERUSER, TEST_DATABASE]);
        run_quietly(createdb, "createdb")?;

        self.url = format!("postgres://{SUPERUSER}:{password}@127.0.0.1:{port}/{TEST_DATABASE}");
        eprintln!(
            "xtask: throwaway PostgreSQL on 127.0.0.1:{port}, data in {}",
            self.dir.display()
        );
        Ok(())
    }

    /// A command for one of the server binaries, run as the unprivileged
    /// user when we are root (initdb and postgres refuse to run as root).
    fn server_command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        match &self.run_as {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(path);
                command
            }
            None => Command::new(path),
        }
    }

    fn give_to_server_user(&self, path: &Path) -> Result<()> {
        if let Some(user) = &self.run_as {
            let mut chown = Command::new("chown");
            chown.arg(user).arg(path);
            run_quietly(chown, "chown")?;
        }
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.data.join("postmaster.pid").exists() {
            let mut stop = self.server_command("pg_ctl");
            stop.args(["stop", "-m", "immediate", "-w", "-D"]);
            stop.arg(&self.data);
            if let Err(e) = run_quietly(stop, "pg_ctl stop") {
                eprintln!("xtask: {e:#}");
            }
        }
        match std::fs::remove_dir_all(&self.dir) {
            Ok(()) => eprintln!("xtask: throwaway PostgreSQL stopped and removed"),
            Err(e) => eprintln!("xtask: could not remove {}: {e}", self.dir.display()),
        }
    }
}

/// The directory holding `initdb`, `pg_ctl` and `postgres`: from `PATH`,
/// else the newest `/usr/lib/postgresql/*/bin`.
fn find_server_binaries() -> Result<PathBuf> {
    let has_all = |dir: &Path| {
        ["initdb", "pg_ctl", "postgres", "createdb"]
            .iter()
            .all(|b| dir.join(b).is_file())
    };
    let path = std::env::var_os("PATH").unwrap_or_default();
    if let Some(dir) = std::env::split_paths(&path).find(|d| has_all(d)) {
        return Ok(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, bin)| has_all(bin))
        .collect();
    versions.sort();
    match versions.pop() {
        Some((_, bin)) => Ok(bin),
        None => bail!(
            "no PostgreSQL server binaries (initdb, pg_ctl, postgres) on PATH or under \
             /usr/lib/postgresql/*/bin.\nInstall them (Debian/Ubuntu: `apt-get install \
             postgresql`), or point DATABASE_URL at a server you run."
        ),
    }
}

/// The user to run the server as: `None` when we are not root; otherwise the
/// `postgres` user if it exists, else `nobody`.
fn unprivileged_user() -> Result<Option<String>> {
    let uid = Command::new("id")
        .arg("-u")
        .output()
        .context("running `id -u`")?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Ok(None);
    }
    for user in ["postgres", "nobody"] {
        let exists = Command::new("id")
            .arg(user)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if exists {
            return Ok(Some(user.to_owned()));
        }
    }
    bail!("running as root and neither a `postgres` nor a `nobody` user exists to run the server")
}

fn make_temp_dir() -> Result<PathBuf> {
    let base = std::env::temp_dir();
    for attempt in 0..100u32 {
        let dir = base.join(format!("coordinate-pg-{}-{attempt}", std::process::id()));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e).with_context(|| format!("creating {}", dir.display())),
        }
    }
    bail!(
        "could not create a temporary directory under {}",
        base.display()
    )
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

fn random_password() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("pw{:x}{:x}", nanos, std::process::id())
}

fn run_quietly(mut command: Command, what: &str) -> Result<()> {
    let output = command
        .output()
        .with_context(|| format!("could not run {what}"))?;
    if !output.status.success() {
        bail!(
            "{what} failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
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
        let log = self.dir.join("server.log");
        let mut restart = self.server_command("pg_ctl");
        restart.args(["restart", "-m", "fast", "-w", "-t", "60", "-D"]);
        restart.arg(&self.data).arg("-l").arg(&log);
        run_quietly(restart, "pg_ctl restart")
    }

    /// The directory of the server binaries (`psql` sits next to them).
    pub fn bin_dir(&self) -> &Path {
        &self.bin
    }
}
