//! Helpers shared by the backend-only tests.
//!
//! Every test binary of the package declares it: `logs.rs` and
//! `pgbouncer.rs` as `mod common;`, the `main.rs` of `store/`,
//! `connecting/` and `processes/` with its path, since from inside their
//! folders `mod common;` would look for a module of their own.
#![allow(dead_code)]

pub mod cli;
pub mod server;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use coordinate_api::{AttemptRequest, Coordinate, Data, Error, Namespace, Value, WorkUnitMeta};
use coordinate_postgres::test_support::database_url;
use coordinate_postgres::{ConnectError, PostgresCoordinate};
use diesel::pg::PgConnection;
use diesel::{sql_query, Connection, RunQueryDsl};

/// A coordinate on the shared test database, with a small pool.
pub fn coordinate() -> Arc<dyn Coordinate> {
    Arc::new(
        PostgresCoordinate::builder(&database_url())
            .pool_size(4)
            .build()
            .expect("connect to the test database"),
    )
}

/// A namespace name no other test (or test run) uses.
pub fn unique(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        nanos,
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}

/// The parts of the test database's connection string, from the URL or
/// (when it is empty) from libpq's environment.
pub struct Params {
    pub user: String,
    pub password: String,
    pub host: String,
    pub port: String,
    pub dbname: String,
}

impl Params {
    pub fn get() -> Params {
        let url = database_url();
        if url.is_empty() {
            let env = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_owned());
            return Params {
                user: env("PGUSER", "postgres"),
                password: env("PGPASSWORD", ""),
                host: env("PGHOST", "localhost"),
                port: env("PGPORT", "5432"),
                dbname: env("PGDATABASE", "postgres"),
            };
        }
        let rest = url
            .split_once("://")
            .expect("DATABASE_URL is a postgres:// URL")
            .1;
        let rest = rest.split('?').next().unwrap_or(rest);
        let (userinfo, hostpart) = rest.rsplit_once('@').unwrap_or(("", rest));
        let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
        let (hostport, dbname) = hostpart.split_once('/').unwrap_or((hostpart, "postgres"));
        let (host, port) = hostport.rsplit_once(':').unwrap_or((hostport, "5432"));
        Params {
            user: decode(user),
            password: decode(password),
            host: host.to_owned(),
            port: port.to_owned(),
            dbname: decode(dbname),
        }
    }

    /// `postgres://` URL for `dbname` (the test database's own by default).
    pub fn url(&self, dbname: Option<&str>) -> String {
        format!(
            "postgres://{}:{}@{}:{}/{}",
            encode(&self.user),
            encode(&self.password),
            self.host,
            self.port,
            encode(dbname.unwrap_or(&self.dbname))
        )
    }
}

fn decode(text: &str) -> String {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&text[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).expect("UTF-8")
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A new, empty database that is dropped with this value.
pub struct FreshDatabase {
    pub name: String,
    pub url: String,
}

impl FreshDatabase {
    pub fn new(prefix: &str) -> FreshDatabase {
        let name = unique(prefix);
        let mut admin =
            PgConnection::establish(&Params::get().url(None)).expect("admin connection");
        sql_query(format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .expect("create database");
        let url = Params::get().url(Some(&name));
        FreshDatabase { name, url }
    }

    pub fn connection(&self) -> PgConnection {
        PgConnection::establish(&self.url).expect("connect to the fresh database")
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        if let Ok(mut admin) = PgConnection::establish(&Params::get().url(None)) {
            let _ = sql_query(format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ))
            .execute(&mut admin);
        }
    }
}

/// The [`ConnectError`] inside a connection failure.
pub fn connect_error(error: &Error) -> &ConnectError {
    match error {
        Error::Backend { source, .. } => source
            .downcast_ref::<ConnectError>()
            .unwrap_or_else(|| panic!("not a connection error: {error}")),
        other => panic!("not a backend error: {other}"),
    }
}

/// Adds a work spec `s` with a unit `u` to namespace `name`, then claims
/// and finishes the unit: one row in every table, and proof that the
/// server takes writes. Returns the namespace.
pub fn claim_and_finish(coordinate: &dyn Coordinate, name: &str) -> Arc<dyn Namespace> {
    let namespace = coordinate.namespace(name).expect("namespace");
    let work_spec = namespace.set_work_spec(spec("s", &[])).expect("work spec");
    work_spec
        .add_work_unit("u", Data::new(), WorkUnitMeta::default())
        .expect("work unit");
    let attempts = namespace
        .worker("w")
        .expect("worker")
        .request_attempts(&AttemptRequest::default())
        .expect("claim");
    assert_eq!(attempts.len(), 1, "the unit was not handed out");
    attempts[0].finish(None).expect("finish");
    namespace
}

/// Data with one text entry.
pub fn data(key: &str, value: &str) -> Data {
    let mut data = Data::new();
    data.insert(key.into(), Value::Text(value.into()));
    data
}

/// A work spec definition with just a name (plus `extra`).
pub fn spec(name: &str, extra: &[(&str, Value)]) -> Data {
    let mut data = data("name", name);
    for (key, value) in extra {
        data.insert((*key).into(), value.clone());
    }
    data
}

/// `url` with an application name, so the test can find its sessions
/// in `pg_stat_activity`.
pub fn with_application_name(url: &str, name: &str) -> String {
    if url.is_empty() {
        format!("application_name={name}")
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let joiner = if url.contains('?') { '&' } else { '?' };
        format!("{url}{joiner}application_name={name}")
    } else {
        format!("{url} application_name={name}")
    }
}

/// Ends every session whose application name is `application` (letters,
/// digits, dashes and underscores only) and returns how many there were.
pub fn terminate_sessions(admin: &mut PgConnection, application: &str) -> i64 {
    assert!(
        application
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        "safe to quote: {application}"
    );
    diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!(
        // OFFSET 0 keeps the filter apart from the call: PostgreSQL may
        // otherwise evaluate pg_terminate_backend on every session.
        "(SELECT count(*) FROM (SELECT pid FROM pg_stat_activity \
                                 WHERE application_name = '{application}' OFFSET 0) s \
           WHERE pg_terminate_backend(s.pid))"
    )))
    .get_result(admin)
    .expect("terminate sessions")
}

/// The executable of the package's example `name`. `cargo test` and
/// nextest build the examples beside the tests (`<profile>/examples` next
/// to `<profile>/deps`), with the same features; a run of one test alone
/// builds it with cargo.
pub fn example_binary(name: &str) -> std::path::PathBuf {
    use std::process::{Command, Stdio};
    let test = std::env::current_exe().expect("the test's own path");
    let profile_dir = test
        .parent()
        .and_then(|deps| deps.parent())
        .expect("<profile>/deps");
    let beside = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if beside.exists() {
        return beside;
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args(["build", "--quiet", "--message-format=json"])
        .args(["--package", "coordinate-postgres", "--example", name])
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|e| panic!("running cargo build for the {name} example: {e}"));
    assert!(
        output.status.success(),
        "building the {name} example failed"
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["target"]["name"] == name)
        .find_map(|message| message["executable"].as_str().map(std::path::PathBuf::from))
        .unwrap_or_else(|| panic!("cargo named no executable for the {name} example"))
}
