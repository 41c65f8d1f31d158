//! Finding the server binaries and the user to run them as.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::Error;

/// The programs a cluster needs, all in one directory.
const REQUIRED: [&str; 4] = ["initdb", "pg_ctl", "postgres", "createdb"];

/// Where the server binaries are and who runs them.
pub(crate) struct Binaries {
    /// The directory with [`REQUIRED`] (and usually `psql`).
    pub(crate) bin: PathBuf,
    /// `Some` when we are root: `initdb` and `postgres` refuse to run as
    /// root, so they run as this user instead.
    run_as: Option<String>,
}

impl Binaries {
    /// Finds the binaries and, when we are root, the user to run them as.
    pub(crate) fn locate() -> Result<Binaries, Error> {
        Ok(Binaries {
            bin: find_bin_dir()?,
            run_as: unprivileged_user()?,
        })
    }

    /// A command for one of the server binaries, as the unprivileged user
    /// when we are root.
    pub(crate) fn command(&self, program: &str) -> Command {
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

    /// Makes `path` the server user's, so the server can read (or, for a
    /// directory, write) it. Nothing to do when we are not root: then the
    /// server runs as us.
    pub(crate) fn give_to_server_user(&self, path: &Path) -> Result<(), Error> {
        match &self.run_as {
            Some(user) => {
                let mut chown = Command::new("chown");
                chown.arg(user).arg(path);
                run_quietly(chown, "chown")
            }
            None => Ok(()),
        }
    }
}

/// The directory holding every [`REQUIRED`] program: the first such on
/// `PATH`, else the newest `/usr/lib/postgresql/<version>/bin`, where
/// Debian and Ubuntu put them without adding them to `PATH`.
fn find_bin_dir() -> Result<PathBuf, Error> {
    let has_all = |dir: &Path| REQUIRED.iter().all(|program| dir.join(program).is_file());
    let path = std::env::var_os("PATH").unwrap_or_default();
    if let Some(dir) = std::env::split_paths(&path).find(|dir| has_all(dir)) {
        return Ok(dir);
    }
    let newest = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, bin)| has_all(bin))
        .max();
    match newest {
        Some((_, bin)) => Ok(bin),
        None => Err(Error::new(format!(
            "no PostgreSQL server binaries ({}) on PATH or under /usr/lib/postgresql/*/bin.\n\
             Install them (Debian/Ubuntu: `apt-get install postgresql`), or point \
             DATABASE_URL at a server you run.",
            REQUIRED.join(", ")
        ))),
    }
}

/// `None` when we are not root; otherwise the `postgres` user if it exists,
/// else `nobody`.
fn unprivileged_user() -> Result<Option<String>, Error> {
    let uid = Command::new("id")
        .arg("-u")
        .output()
        .map_err(|e| Error::io("running `id -u`", e))?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Ok(None);
    }
    let exists = |user: &str| {
        Command::new("id")
            .arg(user)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    };
    match ["postgres", "nobody"].into_iter().find(|user| exists(user)) {
        Some(user) => Ok(Some(user.to_owned())),
        None => Err(Error::new(
            "running as root, and neither a `postgres` nor a `nobody` user exists to run \
             the server as (PostgreSQL refuses to run as root); create one, e.g. \
             `useradd --system postgres`, or run as an ordinary user",
        )),
    }
}

/// Runs `command`, capturing its output, which becomes part of the error
/// when it fails.
pub(crate) fn run_quietly(command: Command, what: &str) -> Result<(), Error> {
    output_of(command, what).map(drop)
}

/// Runs `command` and returns its standard output; when it fails, its
/// output becomes part of the error as in [`run_quietly`].
pub(crate) fn output_of(mut command: Command, what: &str) -> Result<String, Error> {
    let output = command
        .output()
        .map_err(|e| Error::io(format_args!("could not run {what}"), e))?;
    if output.status.success() {
        return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
    }
    Err(Error::new(format!(
        "{what} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )))
}
