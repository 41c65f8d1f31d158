//! TLS: the backend works over an encrypted, password-authenticated
//! connection, and every way a TLS connection can fail is reported as a
//! [`ConnectErrorKind::Tls`] error that says what went wrong and hides the
//! password.
//!
//! The test starts its own server (the shared test database has TLS off)
//! with a certificate made here: a test CA signs a server certificate for
//! `localhost` and `127.0.0.1`; a second, unrelated CA plays the wrong one.
//! One server serves every step, so the steps share one test function.

use std::path::{Path, PathBuf};
use std::time::Instant;

use coordinate_api::{AttemptRequest, Coordinate, Data, WorkUnitMeta, WorkUnitStatus};
use coordinate_postgres::{ConnectErrorKind, PostgresCoordinate};
use diesel::dsl::sql;
use diesel::pg::PgConnection;
use diesel::sql_types::{BigInt, Bool};
use diesel::{Connection, RunQueryDsl};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use throwaway_postgres::{Cluster, SUPERUSER};

use crate::common::{connect_error, spec, unique};

/// PEM files the test writes: what the server presents and what clients
/// may trust.
struct Certificates {
    server_cert: String,
    server_key: String,
    /// The CA that signed the server certificate.
    right_ca: PathBuf,
    /// A CA that signed nothing the server has.
    wrong_ca: PathBuf,
}

/// A CA certificate with its own key and common name.
fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let key = KeyPair::generate().expect("CA key");
    CertifiedIssuer::self_signed(params, key).expect("self-signed CA certificate")
}

/// Makes both CAs and the server certificate; the CA certificates go into
/// `dir` for libpq's `sslrootcert`.
fn certificates(dir: &Path) -> Certificates {
    let right = ca("coordinate test CA");
    let wrong = ca("unrelated test CA");
    let mut params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .expect("server certificate parameters");
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate().expect("server key");
    let cert = params.signed_by(&key, &right).expect("server certificate");
    let write = |name: &str, pem: String| {
        let path = dir.join(name);
        std::fs::write(&path, pem).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        path
    };
    Certificates {
        server_cert: cert.pem(),
        server_key: key.serialize_pem(),
        right_ca: write("right-ca.crt", right.pem()),
        wrong_ca: write("wrong-ca.crt", wrong.pem()),
    }
}

/// Connects a coordinate with `url` and does one unit of work through it:
/// a namespace, a work spec, a unit, an attempt requested and finished.
fn round_trip(url: &str) {
    let coordinate = PostgresCoordinate::builder(url)
        .pool_size(2)
        .build()
        .unwrap_or_else(|e| panic!("connecting failed: {e}"));
    let namespace = coordinate.namespace(&unique("tls")).unwrap();
    let work_spec = namespace.set_work_spec(spec("encrypted", &[])).unwrap();
    work_spec
        .add_work_unit("unit", Data::new(), WorkUnitMeta::default())
        .unwrap();
    let attempts = namespace
        .worker("worker")
        .unwrap()
        .request_attempts(&AttemptRequest::default())
        .unwrap();
    assert_eq!(attempts.len(), 1, "the unit was not handed out");
    attempts[0].finish(None).unwrap();
    let unit = work_spec.work_unit("unit").unwrap();
    assert_eq!(unit.status().unwrap(), WorkUnitStatus::Finished);

    // The coordinate's own pooled sessions (named `coordinate` by the
    // backend) are encrypted, not just some session on the same URL.
    let mut conn = session(url);
    let (pooled, encrypted): (i64, i64) = diesel::select((
        sql::<BigInt>(
            "(SELECT count(*) FROM pg_stat_activity WHERE application_name = 'coordinate')",
        ),
        sql::<BigInt>(
            "(SELECT count(*) FROM pg_stat_activity JOIN pg_stat_ssl USING (pid) \
             WHERE application_name = 'coordinate' AND ssl)",
        ),
    ))
    .get_result(&mut conn)
    .unwrap();
    assert!(pooled > 0, "no pooled session of the coordinate found");
    assert_eq!(encrypted, pooled, "a pooled session is not encrypted");
    namespace.destroy().unwrap();
}

/// A plain Diesel connection with `url` that proves its own session is
/// encrypted.
fn session(url: &str) -> PgConnection {
    let mut conn = PgConnection::establish(url).unwrap_or_else(|e| panic!("connecting: {e}"));
    let ssl: bool = diesel::select(sql::<Bool>(
        "(SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid())",
    ))
    .get_result(&mut conn)
    .unwrap();
    assert!(ssl, "the session is not encrypted");
    conn
}

/// Connecting with `url` fails with a TLS error whose text holds `expected`
/// and not the password.
fn fails_with_tls_error(url: &str, expected: &str, password: &str) {
    let error = match PostgresCoordinate::new(url) {
        Ok(_) => panic!("connecting succeeded; expected {expected:?}"),
        Err(error) => error,
    };
    let cause = connect_error(&error);
    assert_eq!(cause.kind(), ConnectErrorKind::Tls, "{error}");
    // A certificate problem needs a person, not another try.
    assert!(!error.is_transient(), "{error:?}");
    // The cause is the error's source, printed after it as chain printers do.
    let text = format!("{error}: {cause}");
    eprintln!("as expected: {text}");
    assert!(text.contains(expected), "{text:?} lacks {expected:?}");
    assert!(
        text.contains("TLS"),
        "{text:?} does not say it is about TLS"
    );
    for shown in [text, format!("{error:?}")] {
        assert!(!shown.contains(password), "the password leaked: {shown}");
    }
}

#[test]
fn tls_connections() {
    let started = Instant::now();
    let mut server = Cluster::init().unwrap_or_else(|e| panic!("initialising a server: {e}"));
    let certs = certificates(server.dir());
    let put = |name: &str, contents: &str| {
        server
            .put_file(name, contents)
            .unwrap_or_else(|e| panic!("writing {name}: {e}"));
    };
    put("server.crt", &certs.server_cert);
    put("server.key", &certs.server_key);
    // Over TCP only TLS with a password gets in; nothing else matches.
    put(
        "pg_hba.conf",
        "local all all trust\nhostssl all all 127.0.0.1/32 scram-sha-256\n",
    );
    server
        .start(&[
            ("fsync", "off"),
            ("ssl", "on"),
            ("ssl_cert_file", "server.crt"),
            ("ssl_key_file", "server.key"),
        ])
        .unwrap_or_else(|e| panic!("starting the server: {e}"));
    eprintln!("server with TLS up after {:?}", started.elapsed());

    let password = server.password().to_owned();
    let on = |host: &str, query: &str| {
        format!(
            "postgres://{SUPERUSER}:{password}@{host}:{}/postgres?{query}",
            server.port()
        )
    };
    let right_ca = certs.right_ca.display();
    let wrong_ca = certs.wrong_ca.display();

    // 1. sslmode=require: encrypted, with a password, no certificate check.
    let url = on("127.0.0.1", "sslmode=require");
    round_trip(&url);
    session(&url);
    //    The server really checks the password, and refuses plain TCP.
    let kind = |url: &str| match PostgresCoordinate::new(url) {
        Ok(_) => panic!("connecting succeeded"),
        Err(error) => connect_error(&error).kind(),
    };
    let wrong_password = url.replace(&password, "not-the-password");
    assert_eq!(
        kind(&wrong_password),
        ConnectErrorKind::AuthenticationFailed
    );
    let plain = on("127.0.0.1", "sslmode=disable");
    assert_eq!(kind(&plain), ConnectErrorKind::AuthenticationFailed);

    // 2. verify-full with the CA that signed the server's certificate,
    //    by host name (connecting to 127.0.0.1 directly, since localhost
    //    may also mean ::1, where the server does not listen) and by IP.
    round_trip(&on(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={right_ca}&hostaddr=127.0.0.1"),
    ));
    session(&on(
        "127.0.0.1",
        &format!("sslmode=verify-full&sslrootcert={right_ca}"),
    ));

    // 3. verify-full fails: the certificate is not from the trusted CA, it
    //    does not name the host, the CA file is missing.
    fails_with_tls_error(
        &on(
            "localhost",
            &format!("sslmode=verify-full&sslrootcert={wrong_ca}&hostaddr=127.0.0.1"),
        ),
        "certificate verify failed",
        &password,
    );
    fails_with_tls_error(
        &on(
            "not-this-server.invalid",
            &format!("sslmode=verify-full&sslrootcert={right_ca}&hostaddr=127.0.0.1"),
        ),
        "does not match host name \"not-this-server.invalid\"",
        &password,
    );
    fails_with_tls_error(
        &on(
            "localhost",
            "sslmode=verify-full&sslrootcert=/nonexistent/ca.crt&hostaddr=127.0.0.1",
        ),
        "root certificate file \"/nonexistent/ca.crt\" does not exist",
        &password,
    );

    // 4. sslmode=require against a server without TLS.
    crate::common::server::reconfigure(&server, "ssl", "off");
    fails_with_tls_error(&url, "server does not support SSL", &password);

    eprintln!("all TLS steps done after {:?}", started.elapsed());
}
