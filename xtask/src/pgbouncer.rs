//! The PgBouncer lane: the PostgreSQL conformance suite again, through
//! PgBouncer in transaction pooling mode, with the backend's
//! `transaction_pooling(true)`; plus `coordinate-postgres/tests/pgbouncer.rs`,
//! which shows what goes wrong without that setting.
//!
//! [`Bouncer::start`] runs `pgbouncer` in front of the run's server on a
//! free loopback port, with its configuration, log and auth file in a
//! temporary directory of its own; dropping the [`Bouncer`] stops it and
//! removes the directory, also after a failed run or Ctrl-C. Debian's
//! PgBouncer (1.18 in bookworm) does not track named prepared statements
//! in transaction mode, the case the setting exists for.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::process::{cargo, has_nextest, run_checked};

/// What to install when `pgbouncer` is missing.
pub const INSTALL_HINT: &str = "install it (Debian/Ubuntu: apt-get install pgbouncer)";
/// How long PgBouncer may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// Runs the lane when `pgbouncer` is installed; otherwise prints one line
/// saying the lane did not run and what to install, and succeeds, so that
/// a machine with only what the README asks for passes. CI makes sure it
/// is installed first ([`require_installed`]).
pub fn run(database_url: &str) -> Result<()> {
    match find_program() {
        Some(program) => run_lane(&program, database_url),
        None => {
            eprintln!(
                "xtask: the PgBouncer lane did not run: `pgbouncer` is not installed; \
                 {INSTALL_HINT}"
            );
            Ok(())
        }
    }
}

/// Fails unless `pgbouncer` is installed: CI must not pass without the
/// lane.
pub fn require_installed() -> Result<()> {
    match find_program() {
        Some(program) => {
            eprintln!("xtask: found {}", program.display());
            Ok(())
        }
        None => {
            bail!("the PgBouncer lane needs `pgbouncer`, which is not installed; {INSTALL_HINT}")
        }
    }
}

/// A PgBouncer (the installed `program`) in front of `database_url`, and
/// the URL through it, for the benchmark's pooled rows. The caller has
/// checked with [`usable_upstream`] that the URL will do.
pub fn start_in_front_of(program: &Path, database_url: &str) -> Result<(Bouncer, String)> {
    let upstream = Upstream::parse(database_url).map_err(|why| {
        // The caller asked `usable_upstream` first; this is only a guard.
        anyhow::anyhow!("PgBouncer cannot log in to the server: {why}")
    })?;
    let bouncer = Bouncer::start(program, &upstream)?;
    let url = bouncer.url(&upstream);
    Ok((bouncer, url))
}

/// Whether PgBouncer can be put in front of the server of `database_url`,
/// and if not, why: it must log in to the server on its clients' behalf,
/// so it needs the user and password that only a URL carries.
pub fn usable_upstream(database_url: &str) -> Result<(), Unusable> {
    Upstream::parse(database_url).map(|_| ())
}

/// Why a run's server cannot sit behind PgBouncer; displayed as what is
/// missing and why PgBouncer needs it, for the caller to add what to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unusable {
    /// The server comes from `PGHOST` and friends (an empty connection
    /// string), which name no password PgBouncer could use.
    NoUrl,
    /// The connection string is not a `postgres://` URL with a login and a
    /// database, or one of its parts does not decode.
    NotAUrl,
    /// The URL names a user but no password, as with a server that
    /// trusts local connections.
    NoPassword,
}

impl std::fmt::Display for Unusable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let missing = match self {
            Unusable::NoUrl => "the server is named by the PG* environment variables, not a URL",
            Unusable::NotAUrl => "DATABASE_URL is not a postgres:// URL",
            Unusable::NoPassword => "DATABASE_URL has no password",
        };
        write!(
            f,
            "{missing}, and PgBouncer logs in to the server for its clients with the \
             user and password of a postgres://user:password@host:port/db URL"
        )
    }
}

/// Runs the lane with the installed `program` in front of the server.
fn run_lane(program: &Path, database_url: &str) -> Result<()> {
    let upstream = Upstream::parse(database_url).map_err(|why| {
        anyhow::anyhow!(
            "the PgBouncer lane cannot run: {why}; set DATABASE_URL so, or let xtask \
             start a throwaway server"
        )
    })?;
    let bouncer = Bouncer::start(program, &upstream)?;
    eprintln!(
        "xtask: PgBouncer lane: PgBouncer (transaction pooling) on 127.0.0.1:{}, files in {}",
        bouncer.port,
        bouncer.dir.display()
    );
    let mut tests = cargo();
    if has_nextest() {
        tests.args(["nextest", "run", "--no-fail-fast"]);
    } else {
        tests.args(["test", "--no-fail-fast"]);
    }
    // `pgbouncer` is left out of the ordinary run (`test = false`), so it
    // is named here.
    tests.args([
        "-p",
        "coordinate-postgres",
        "--test",
        "conformance",
        "--test",
        "pgbouncer",
    ]);
    tests
        .env("DATABASE_URL", bouncer.url(&upstream))
        .env("COORDINATE_TEST_TRANSACTION_POOLING", "1")
        // Waiting for work listens on a direct connection, as the README
        // tells users behind PgBouncer to do.
        .env("COORDINATE_TEST_LISTENER_URL", database_url);
    let result = run_checked(tests, "PgBouncer lane's tests");
    drop(bouncer);
    result
}

/// `pgbouncer` on `PATH`, or where Debian puts it (`/usr/sbin`, which an
/// ordinary user's `PATH` often lacks).
pub fn find_program() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/sbin")])
        .map(|dir| dir.join("pgbouncer"))
        .find(|candidate| candidate.is_file())
}

/// The server PgBouncer forwards to and the login it passes on, from the
/// run's `postgres://user:password@host:port/dbname` URL.
struct Upstream {
    user: String,
    password: String,
    host: String,
    port: String,
    dbname: String,
}

impl Upstream {
    /// The parts of `url`, or which of them is missing.
    fn parse(url: &str) -> Result<Upstream, Unusable> {
        if url.is_empty() {
            return Err(Unusable::NoUrl);
        }
        let rest = url
            .strip_prefix("postgres://")
            .or_else(|| url.strip_prefix("postgresql://"))
            .ok_or(Unusable::NotAUrl)?;
        let rest = rest.split('?').next().unwrap_or(rest);
        let (login, place) = rest.rsplit_once('@').ok_or(Unusable::NotAUrl)?;
        // A login without a colon is a user alone: told apart from a
        // malformed URL because it is the common case of a trusting server.
        let (user, password) = login.split_once(':').ok_or(Unusable::NoPassword)?;
        let (address, dbname) = place.split_once('/').ok_or(Unusable::NotAUrl)?;
        let (host, port) = address.rsplit_once(':').unwrap_or((address, "5432"));
        let decode = |part| percent_decode(part).map_err(|_| Unusable::NotAUrl);
        Ok(Upstream {
            user: decode(user)?,
            password: decode(password)?,
            host: host.to_owned(),
            port: port.to_owned(),
            dbname: decode(dbname)?,
        })
    }
}

/// Decodes the `%XX` escapes of a URL part.
fn percent_decode(text: &str) -> Result<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&first, tail)) = rest.split_first() {
        if first == b'%' && tail.len() >= 2 {
            let hex = std::str::from_utf8(&tail[..2]).unwrap_or("");
            if let Ok(byte) = u8::from_str_radix(hex, 16) {
                bytes.push(byte);
                rest = &tail[2..];
                continue;
            }
        }
        bytes.push(first);
        rest = tail;
    }
    String::from_utf8(bytes).context("a percent-encoded URL part is not UTF-8")
}

/// A running PgBouncer of this run.
pub struct Bouncer {
    child: Option<Child>,
    dir: PathBuf,
    port: u16,
}

impl Bouncer {
    /// Writes the configuration and auth file and starts PgBouncer in the
    /// foreground, as our child; waits until it accepts connections.
    fn start(program: &Path, upstream: &Upstream) -> Result<Bouncer> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!(
            "coordinate-pgbouncer-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
        // From here on, dropping `bouncer` removes the directory.
        let mut bouncer = Bouncer {
            child: None,
            dir,
            port: free_port()?,
        };
        let dir = bouncer.dir.clone();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
        let auth_file = dir.join("userlist.txt");
        // The password is the server's: only PgBouncer's user may read it.
        std::fs::write(
            &auth_file,
            format!(
                "{} {}\n",
                quoted(&upstream.user),
                quoted(&upstream.password)
            ),
        )?;
        std::fs::set_permissions(&auth_file, std::fs::Permissions::from_mode(0o600))?;
        let config = dir.join("pgbouncer.ini");
        std::fs::write(&config, configuration(upstream, bouncer.port, &dir))?;

        let mut command = Command::new(program);
        // PgBouncer refuses to run as root; it drops to this user itself,
        // so the child we hold is PgBouncer and killing it stops it.
        if let Some(user) = unprivileged_user()? {
            let mut chown = Command::new("chown");
            chown.args(["-R", &user]).arg(&dir);
            let status = chown.status().context("running chown")?;
            if !status.success() {
                bail!("chown {user} {} failed ({status})", dir.display());
            }
            command.args(["-u", &user]);
        }
        command
            .arg(&config)
            .stdin(Stdio::null())
            // It writes the same lines to its log file.
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        bouncer.child = Some(command.spawn().context("starting pgbouncer")?);
        bouncer.wait_until_ready()?;
        Ok(bouncer)
    }

    fn wait_until_ready(&mut self) -> Result<()> {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                bail!(
                    "pgbouncer exited at start ({status}); its log:\n{}",
                    self.log()
                );
            }
            if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!(
                    "pgbouncer did not accept connections within {START_TIMEOUT:?}; its log:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("pgbouncer.log")).unwrap_or_default()
    }

    /// The connection string for the tests: the upstream's login and
    /// database, PgBouncer's address.
    fn url(&self, upstream: &Upstream) -> String {
        // The login came out of a URL; put it back encoded the same way.
        let encode = |text: &str| {
            text.bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                        char::from(b).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect::<String>()
        };
        format!(
            "postgres://{}:{}@127.0.0.1:{}/{}",
            encode(&upstream.user),
            encode(&upstream.password),
            self.port,
            encode(&upstream.dbname)
        )
    }
}

impl Drop for Bouncer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // Nothing of PgBouncer's needs flushing: SIGKILL.
            let _ = child.kill();
            let _ = child.wait();
        }
        match std::fs::remove_dir_all(&self.dir) {
            Ok(()) => eprintln!("xtask: PgBouncer stopped and removed"),
            Err(e) => eprintln!("xtask: removing {}: {e}", self.dir.display()),
        }
    }
}

/// PgBouncer's configuration: every database forwarded to the upstream
/// server, transaction pooling, TCP on loopback only, no Unix socket,
/// logging into `dir`.
fn configuration(upstream: &Upstream, port: u16, dir: &Path) -> String {
    format!(
        "[databases]\n\
         * = host={host} port={upstream_port}\n\
         \n\
         [pgbouncer]\n\
         pool_mode = transaction\n\
         listen_addr = 127.0.0.1\n\
         listen_port = {port}\n\
         unix_socket_dir =\n\
         auth_type = scram-sha-256\n\
         auth_file = {auth}\n\
         logfile = {log}\n\
         ; The suite's cases each open ten client connections, several at once.\n\
         max_client_conn = 1000\n\
         default_pool_size = 20\n",
        host = upstream.host,
        upstream_port = upstream.port,
        auth = dir.join("userlist.txt").display(),
        log = dir.join("pgbouncer.log").display(),
    )
}

/// A value in PgBouncer's auth file: in double quotes, inner ones doubled.
fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// A loopback port that is free now.
fn free_port() -> Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .context("finding a free port")?
        .port())
}

/// When we are root, the user PgBouncer switches to: `postgres` if there
/// is one (Debian's package makes it), else `nobody`.
fn unprivileged_user() -> Result<Option<String>> {
    let uid = Command::new("id")
        .arg("-u")
        .output()
        .context("running `id -u`")?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Ok(None);
    }
    let has_postgres = Command::new("id")
        .arg("postgres")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    Ok(Some(
        if has_postgres { "postgres" } else { "nobody" }.to_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_upstream_comes_from_the_url() {
        let up = Upstream::parse("postgres://post%40gres:p%3Aw@127.0.0.1:5433/db?sslmode=disable")
            .unwrap();
        assert_eq!(
            (
                up.user.as_str(),
                up.password.as_str(),
                up.host.as_str(),
                up.port.as_str(),
                up.dbname.as_str()
            ),
            ("post@gres", "p:w", "127.0.0.1", "5433", "db")
        );
        assert!(Upstream::parse("host=localhost").is_err());
        assert_eq!(quoted("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn an_unusable_upstream_says_what_is_missing() {
        let why = |url| usable_upstream(url).err();
        assert_eq!(why("postgres://u:pw@127.0.0.1:5432/db"), None);
        assert_eq!(
            why("postgres://postgres@127.0.0.1:5432/postgres"),
            Some(Unusable::NoPassword)
        );
        assert_eq!(why(""), Some(Unusable::NoUrl));
        assert_eq!(why("host=localhost user=u"), Some(Unusable::NotAUrl));
        assert_eq!(why("postgres://u:pw@127.0.0.1"), Some(Unusable::NotAUrl));
    }
}
