//! Connection strings, connection errors and password redaction.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{connect_error, unique, Params};
use coordinate_api::{Coordinate, Error};
use coordinate_postgres::{ConnectErrorKind, PostgresCoordinate};

/// Connects with `conn` and proves the connection works.
fn round_trip(conn: &str) {
    let coordinate = PostgresCoordinate::builder(conn)
        .pool_size(1)
        .build()
        .unwrap_or_else(|e| panic!("connecting failed: {e}"));
    let name = unique("conn");
    let namespace = coordinate.namespace(&name).unwrap();
    assert!(coordinate
        .namespaces()
        .unwrap()
        .iter()
        .any(|n| n.name() == name));
    namespace.destroy().unwrap();
}

/// libpq quoting for a key=value value.
fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

#[test]
fn url_forms_connect() {
    let p = Params::get();
    let url = p.url(None);
    round_trip(&url);
    round_trip(&url.replacen("postgres://", "postgresql://", 1));
    round_trip(&url.replacen("postgres://", "//", 1));
}

#[test]
fn key_value_form_connects() {
    let p = Params::get();
    round_trip(&format!(
        "postgres:host={} port={} user={} password={} dbname={}",
        p.host,
        p.port,
        quote(&p.user),
        quote(&p.password),
        quote(&p.dbname)
    ));
}

/// Runs this test binary again as a child with only libpq's environment
/// to go on: environment variables are process-wide, so other tests in
/// this process must not see them change.
fn in_child_with_libpq_environment(test: &str) {
    let p = Params::get();
    let output = Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env("COORDINATE_TEST_CHILD", "1")
        .env_remove("DATABASE_URL")
        .env("PGHOST", &p.host)
        .env("PGPORT", &p.port)
        .env("PGUSER", &p.user)
        .env("PGPASSWORD", &p.password)
        .env("PGDATABASE", &p.dbname)
        .env("PGSSLMODE", "prefer")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "the child test failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn is_child() -> bool {
    std::env::var_os("COORDINATE_TEST_CHILD").is_some()
}

#[test]
fn empty_string_uses_the_libpq_environment() {
    if !is_child() {
        return in_child_with_libpq_environment("empty_string_uses_the_libpq_environment");
    }
    assert!(std::env::var_os("DATABASE_URL").is_none());
    round_trip("");
    round_trip("postgres:");
    // Partial strings take the rest from the environment.
    round_trip(&format!("postgres:dbname={}", Params::get().dbname));
    round_trip(&format!("//{}", Params::get().host));
}

#[test]
fn missing_environment_values_are_used_by_the_test_support() {
    if !is_child() {
        return in_child_with_libpq_environment(
            "missing_environment_values_are_used_by_the_test_support",
        );
    }
    assert_eq!(coordinate_postgres::test_support::database_url(), "");
}

fn connect(conn: &str) -> Error {
    PostgresCoordinate::builder(conn)
        .connection_timeout(Duration::from_secs(5))
        .build()
        .expect_err("connecting should fail")
}

#[test]
fn failures_are_distinct_and_never_show_the_password() {
    let p = Params::get();
    let secret = "N0t-The-Real-Passw0rd!";
    let cases = [
        (
            format!("postgres:host={} password={secret} dbname", p.host),
            ConnectErrorKind::InvalidConnectionString,
        ),
        (
            format!("mysql://{}:{secret}@{}/db", p.user, p.host),
            ConnectErrorKind::InvalidConnectionString,
        ),
        (
            format!(
                "postgres://{}:{secret}@{}:{}/x?bogus=1",
                p.user, p.host, p.port
            ),
            ConnectErrorKind::InvalidConnectionString,
        ),
        (
            format!("postgres://{}:{secret}@127.0.0.1:1/{}", p.user, p.dbname),
            ConnectErrorKind::Unreachable,
        ),
        (
            format!(
                "postgres://{}:{secret}@no-such-host.invalid/{}",
                p.user, p.dbname
            ),
            ConnectErrorKind::Unreachable,
        ),
        (
            format!(
                "postgres://{}:{secret}@{}:{}/{}",
                p.user, p.host, p.port, p.dbname
            ),
            ConnectErrorKind::AuthenticationFailed,
        ),
        (
            p.url(Some(&unique("no_such_database"))),
            ConnectErrorKind::NoSuchDatabase,
        ),
    ];
    for (conn, kind) in cases {
        let error = connect(&conn);
        let text = format!("{error} | {error:?} | {}", connect_error(&error));
        assert_eq!(connect_error(&error).kind(), kind, "{text}");
        for hidden in [secret, p.password.as_str()] {
            assert!(!text.contains(hidden), "password shown: {text}");
        }
        assert!(text.len() > 40, "not much of an explanation: {text}");
    }
}

#[test]
fn debug_output_hides_the_password() {
    let p = Params::get();
    let url = p.url(None);
    let coordinate = PostgresCoordinate::builder(&url)
        .pool_size(1)
        .build()
        .unwrap();
    let shown = format!("{coordinate:?} {:?}", PostgresCoordinate::builder(&url));
    assert!(shown.contains(&p.host), "{shown}");
    assert!(!shown.contains(&p.password), "{shown}");
    let pairs = format!("postgres:password={} host=x", quote(&p.password));
    let shown = format!("{:?}", PostgresCoordinate::builder(&pairs));
    assert!(!shown.contains(&p.password), "{shown}");
}

#[test]
fn builder_rejects_nonsense_settings() {
    let url = Params::get().url(None);
    for builder in [
        PostgresCoordinate::builder(&url).pool_size(0),
        PostgresCoordinate::builder(&url).connection_timeout(Duration::ZERO),
    ] {
        assert!(matches!(builder.build(), Err(Error::InvalidInput { .. })));
    }
}

#[test]
fn a_pool_of_one_serves_many_threads() {
    let coordinate = PostgresCoordinate::builder(&Params::get().url(None))
        .pool_size(1)
        .build()
        .unwrap();
    let namespace = coordinate.namespace(&unique("pool")).unwrap();
    std::thread::scope(|scope| {
        for i in 0..4 {
            let namespace = &namespace;
            scope.spawn(move || {
                for j in 0..10 {
                    namespace.worker(&format!("w{i}-{j}")).unwrap();
                }
            });
        }
    });
    assert_eq!(namespace.workers().unwrap().len(), 40);
    namespace.destroy().unwrap();
}
