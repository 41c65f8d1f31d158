//! A private PostgreSQL server for tests that need settings the shared test
//! database cannot have (TLS, its own `pg_hba.conf`).
//!
//! `initdb` into a temporary directory, a free loopback port, the socket in
//! that directory; dropping the [`Server`] stops it (`-m immediate`) and
//! removes the directory, also when the test panics. Every failure panics
//! with the reason: a test that needs this server must not pass without it.
//! (`xtask`'s throwaway server does the same for whole runs; tests cannot
//! depend on xtask, hence this small copy.)

use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use diesel::pg::PgConnection;
use diesel::{sql_query, Connection, RunQueryDsl};

/// The superuser, who logs in with [`Server::password`] over TCP.
pub const SUPERUSER: &str = "postgres";

/// A server of our own, initialised but not necessarily started.
pub struct Server {
    bin: PathBuf,
    dir: PathBuf,
    data: PathBuf,
    /// Who runs the server binaries: they refuse to run as root.
    run_as: Option<String>,
    /// The loopback port, once started.
    pub port: u16,
    /// The superuser's password.
    pub password: String,
}

impl Server {
    /// Runs `initdb` into a new temporary directory. Host connections
    /// need a password (scram-sha-256) and socket connections none; write
    /// files with [`Server::put_file`], then [`Server::start`].
    pub fn init() -> Server {
        let bin = server_binaries();
        let run_as = unprivileged_user();
        let dir = std::env::temp_dir().join(format!(
            "coordinate-test-pg-{}-{}",
            std::process::id(),
            nanos()
        ));
        std::fs::create_dir(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        // From here on, dropping `server` removes the directory.
        let server = Server {
            bin,
            data: dir.join("data"),
            dir,
            run_as,
            port: 0,
            // Long and distinctive, so a test can look for it in error text.
            password: format!("Pw-{:x}-{}", nanos(), std::process::id()),
        };
        server.chown(&server.dir);
        let pwfile = server.dir.join("pwfile");
        std::fs::write(&pwfile, format!("{}\n", server.password)).expect("writing the pwfile");
        server.chown(&pwfile);

        let mut initdb = server.command("initdb");
        initdb.arg("-D").arg(&server.data);
        initdb.args(["-U", SUPERUSER, "-E", "UTF8", "--no-locale", "--no-sync"]);
        initdb.args(["--auth-local=trust", "--auth-host=scram-sha-256"]);
        initdb.arg(format!("--pwfile={}", pwfile.display()));
        run(initdb, "initdb");
        server
    }

    /// The temporary directory (removed on drop), for the test's own files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes `contents` to `name` in the data directory, readable only by
    /// the server's user (as PostgreSQL demands of a private key).
    pub fn put_file(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.data.join(name);
        std::fs::write(&path, contents)
            .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
        self.chown(&path);
        path
    }

    /// Starts the server on a free loopback port, with `settings` (name,
    /// value) on top of test-friendly ones. They go into the configuration
    /// file, not the command line, so [`Server::reconfigure`] can change
    /// them later.
    pub fn start(&mut self, settings: &[(&str, &str)]) {
        let conf = self.data.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf).expect("reading postgresql.conf");
        for (name, value) in settings {
            text.push_str(&format!("{name} = '{value}'\n"));
        }
        std::fs::write(&conf, text).expect("writing postgresql.conf");
        self.port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("finding a free port")
            .port();
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("server.log");
        let mut start = self.command("pg_ctl");
        start
            .args(["start", "-w", "-t", "30", "-D"])
            .arg(&self.data);
        start.arg("-l").arg(&log).args(["-o", &options]);
        let output = start.output().expect("running pg_ctl start");
        if !output.status.success() {
            panic!(
                "pg_ctl start failed ({}):\n{}{}\nserver log:\n{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr),
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
    }

    /// A superuser connection over the socket (no password, no TLS).
    pub fn admin(&self) -> PgConnection {
        let conn = format!(
            "host={} port={} user={SUPERUSER} dbname=postgres",
            self.dir.display(),
            self.port
        );
        PgConnection::establish(&conn).unwrap_or_else(|e| panic!("admin connection: {e}"))
    }

    /// Changes a reloadable setting and waits until new sessions see it.
    pub fn reconfigure(&self, name: &str, value: &str) {
        let mut admin = self.admin();
        sql_query(format!("ALTER SYSTEM SET {name} = '{value}'"))
            .execute(&mut admin)
            .expect("ALTER SYSTEM");
        sql_query("SELECT pg_reload_conf()")
            .execute(&mut admin)
            .expect("reloading the configuration");
        // The postmaster reloads on its own time; each new session starts
        // from the postmaster's settings.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let now: String = diesel::select(diesel::dsl::sql::<diesel::sql_types::Text>(
                &format!("current_setting('{name}')"),
            ))
            .get_result(&mut self.admin())
            .expect("reading the setting");
            if now == value {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{name} is still {now} after the reload"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A command for a server binary, as the unprivileged user if we are
    /// root.
    fn command(&self, program: &str) -> Command {
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

    fn chown(&self, path: &Path) {
        if let Some(user) = &self.run_as {
            let mut chown = Command::new("chown");
            chown.arg(user).arg(path);
            run(chown, "chown");
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.data.join("postmaster.pid").exists() {
            let mut stop = self.command("pg_ctl");
            stop.args(["stop", "-m", "immediate", "-w", "-D"])
                .arg(&self.data);
            if let Err(e) = stop.output() {
                eprintln!("pg_ctl stop: {e}");
            }
        }
        if let Err(e) = std::fs::remove_dir_all(&self.dir) {
            eprintln!("could not remove {}: {e}", self.dir.display());
        }
    }
}

/// The directory with `initdb` and `pg_ctl`: on `PATH`, else the newest
/// `/usr/lib/postgresql/*/bin` (where Debian and Ubuntu put them).
fn server_binaries() -> PathBuf {
    let has_both = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let debian = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse::<u32>().ok()?, e.path())))
        .max()
        .map(|(_, dir)| dir.join("bin"));
    std::env::split_paths(&path)
        .chain(debian)
        .find(|dir| has_both(dir))
        .expect(
            "this test starts its own PostgreSQL server, but neither PATH nor \
             /usr/lib/postgresql/*/bin has initdb and pg_ctl (Debian/Ubuntu: \
             apt-get install postgresql)",
        )
}

/// `None` unless we are root; then `postgres` if that user exists, else
/// `nobody`.
fn unprivileged_user() -> Option<String> {
    let id = |args: &[&str]| Command::new("id").args(args).output().expect("running id");
    if String::from_utf8_lossy(&id(&["-u"]).stdout).trim() != "0" {
        return None;
    }
    let user = ["postgres", "nobody"]
        .into_iter()
        .find(|user| id(&[user]).status.success())
        .expect("running as root, and no postgres or nobody user to run the server");
    Some(user.to_owned())
}

fn nanos() -> u32 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos())
}

fn run(mut command: Command, what: &str) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("could not run {what}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
