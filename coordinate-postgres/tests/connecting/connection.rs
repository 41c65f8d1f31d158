//! Connection strings, connection errors and password redaction.

use std::process::Command;
use std::time::Duration;

use coordinate_api::{Coordinate, Error};
use coordinate_postgres::{ConnectErrorKind, PostgresCoordinate};

use crate::common::{connect_error, unique, Params};

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

/// Fails if `text` shows `password`. An empty password (a server that
/// trusts its clients) is in every text, so there is nothing to check.
fn assert_hidden(text: &str, password: &str) {
    assert!(
        password.is_empty() || !text.contains(password),
        "password shown: {text}"
    );
}

/// Fails the test unless the test server checks passwords: one that trusts
/// its clients accepts any password, and the wrong-password cases could not
/// fail. `cargo xtask conformance` starts its server with password
/// authentication on loopback.
fn require_password_checks(wrong: &str) {
    let p = Params::get();
    let conn = Params {
        password: wrong.to_owned(),
        ..p
    }
    .url(None);
    let rejected = PostgresCoordinate::builder(&conn)
        .pool_size(1)
        .connection_timeout(Duration::from_secs(5))
        .build()
        .is_err();
    assert!(
        rejected,
        "the test server accepts a wrong password (trust authentication), so the \
         wrong-password cases cannot run: use a server with password \
         authentication, e.g. the one `cargo xtask conformance` starts"
    );
}

#[test]
fn failures_are_distinct_and_never_show_the_password() {
    let p = Params::get();
    let secret = "N0t-The-Real-Passw0rd!";
    let mut cases = vec![
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
                unique("no_such_role"),
                p.host,
                p.port,
                p.dbname
            ),
            ConnectErrorKind::AuthenticationFailed,
        ),
        (
            format!("postgres:host={} password=two {secret}", p.host),
            ConnectErrorKind::InvalidConnectionString,
        ),
        (
            format!("postgres://{}:two@{secret}@{}/db", p.user, p.host),
            ConnectErrorKind::InvalidConnectionString,
        ),
        (
            p.url(Some(&unique("no_such_database"))),
            ConnectErrorKind::NoSuchDatabase,
        ),
    ];
    require_password_checks(secret);
    cases.push((
        format!(
            "postgres://{}:{secret}@{}:{}/{}",
            p.user, p.host, p.port, p.dbname
        ),
        ConnectErrorKind::AuthenticationFailed,
    ));
    for (conn, kind) in cases {
        let error = connect(&conn);
        let text = format!("{error} | {error:?} | {}", connect_error(&error));
        assert_eq!(connect_error(&error).kind(), kind, "{text}");
        assert_hidden(&text, secret);
        assert_hidden(&text, &p.password);
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
    assert_hidden(&shown, &p.password);
    // A made-up password checks the builder even when the server has none.
    let secret = "N0t-The-Real-Passw0rd!";
    for password in [p.password.as_str(), secret] {
        let url = Params {
            password: password.to_owned(),
            ..Params::get()
        }
        .url(None);
        let pairs = format!("postgres:password={} host=x", quote(password));
        let shown = format!(
            "{:?} {:?}",
            PostgresCoordinate::builder(&url),
            PostgresCoordinate::builder(&pairs)
        );
        assert_hidden(&shown, password);
    }
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

/// Everything an error can show: `Display`, `Debug` (plain and pretty) of
/// the error and of every error in its `source()` chain.
fn all_text(error: &Error) -> String {
    let mut text = format!("{error} | {error:?} | {error:#?}");
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(&format!(" | {cause} | {cause:?} | {cause:#?}"));
        source = cause.source();
    }
    text
}

/// The three spellings of one connection: URL, URL without scheme, and
/// libpq key=value pairs. `port` may be anything, to spell a bad string.
fn three_forms(user: &str, password: &str, host: &str, port: &str, dbname: &str) -> [String; 3] {
    let url = format!("postgres://{user}:{password}@{host}:{port}/{dbname}");
    [
        url.clone(),
        url.replacen("postgres://", "//", 1),
        format!(
            "postgres:host={host} port={port} user={} password={} dbname={}",
            quote(user),
            quote(password),
            quote(dbname)
        ),
    ]
}

#[test]
fn every_form_hides_the_password_in_the_whole_error_chain() {
    let p = Params::get();
    // URL-safe, so every form carries it verbatim.
    let secret = "S3cret-Passw0rd-In-Every-Form";
    let mut cases = Vec::new();
    let mut add = |forms: [String; 3], kind: ConnectErrorKind| {
        cases.extend(forms.into_iter().map(|conn| (conn, kind)));
    };
    add(
        three_forms(&p.user, secret, &p.host, "not-a-port", &p.dbname),
        ConnectErrorKind::InvalidConnectionString,
    );
    add(
        three_forms(&p.user, secret, "127.0.0.1", "1", &p.dbname),
        ConnectErrorKind::Unreachable,
    );
    add(
        three_forms(&unique("no_such_role"), secret, &p.host, &p.port, &p.dbname),
        ConnectErrorKind::AuthenticationFailed,
    );
    require_password_checks(secret);
    add(
        three_forms(&p.user, secret, &p.host, &p.port, &p.dbname),
        ConnectErrorKind::AuthenticationFailed,
    );
    // The real password, where there is one, must not show either.
    add(
        three_forms(
            &p.user,
            &p.password,
            &p.host,
            &p.port,
            &unique("no_such_db"),
        ),
        ConnectErrorKind::NoSuchDatabase,
    );
    for (conn, kind) in cases {
        let error = connect(&conn);
        let text = all_text(&error);
        assert_eq!(connect_error(&error).kind(), kind, "{conn:?}: {text}");
        assert_hidden(&text, secret);
        assert_hidden(&text, &p.password);
    }
}

/// Percent-encodes everything but letters and digits, for URL userinfo.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn escaped_passwords_stay_hidden_raw_and_escaped() {
    let p = Params::get();
    // Characters that need escaping in a URL and quoting in key=value form.
    let secret = "sp3c!al p@ss/w:rd'q";
    let escaped = percent_encode(secret);
    let cases = [
        (
            format!("postgres://{}:{escaped}@127.0.0.1:1/{}", p.user, p.dbname),
            ConnectErrorKind::Unreachable,
        ),
        (
            format!("//{}:{escaped}@127.0.0.1:1/{}", p.user, p.dbname),
            ConnectErrorKind::Unreachable,
        ),
        (
            format!(
                "postgres:host=127.0.0.1 port=1 user={} password={}",
                quote(&p.user),
                quote(secret)
            ),
            ConnectErrorKind::Unreachable,
        ),
        (
            format!("postgres://{}:{escaped}@{}:x/{}", p.user, p.host, p.dbname),
            ConnectErrorKind::InvalidConnectionString,
        ),
    ];
    for (conn, kind) in cases {
        let error = connect(&conn);
        let text = all_text(&error);
        assert_eq!(connect_error(&error).kind(), kind, "{text}");
        for shown in [secret, escaped.as_str(), "p@ss", "p%40ss"] {
            assert_hidden(&text, shown);
        }
    }
}
