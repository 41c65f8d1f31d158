//! The real binary: flags in go's spellings, refusals, the token, TLS,
//! the Host check, bad input, the test clock, and draining on SIGTERM.

mod common;

use std::io::{Read as _, Write as _};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use common::{agent, free_port, get, json, post, run_to_end, scratch, Server};

#[test]
fn go_style_single_dash_flags_and_equals_forms_work() {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let server = Server::start(port, "http", &["-backend", "memory", "-http", &addr]);
    assert_eq!(get(&agent(), &server.url("/healthz"), &[]).0, 200);
    drop(server);
    let port = free_port();
    let addr = format!("-http=127.0.0.1:{port}");
    let server = Server::start(port, "http", &["-backend=memory", &addr, "--log-requests"]);
    let (status, body) = get(&agent(), &server.url("/"), &[]);
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["namespaces_url"], "/namespace");
}

#[test]
fn cborrpc_is_refused_with_its_reason() {
    let output = run_to_end(&["-cborrpc", ":5932"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("CBOR-RPC") && stderr.contains("not served"),
        "{stderr}"
    );
    let unknown = run_to_end(&["-backend", "mysql://root:hunter2@h/db"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&unknown.stderr).contains("hunter2"));
}

#[test]
fn the_token_is_needed_as_bearer_or_basic_password() {
    let dir = scratch("token");
    let token_file = dir.join("token");
    std::fs::write(&token_file, "s3cret-token\n").unwrap();
    let server = Server::memory(&["--token-file", token_file.to_str().unwrap()]);
    let agent = agent();
    let (status, body) = get(&agent, &server.url("/namespace"), &[]);
    assert_eq!(status, 401);
    assert!(!body.contains("s3cret"), "{body}");
    assert_eq!(json(&body)["error"], "error");
    let (status, _) = get(
        &agent,
        &server.url("/namespace"),
        &[("Authorization", "Bearer wrong")],
    );
    assert_eq!(status, 401);
    let (status, _) = get(
        &agent,
        &server.url("/namespace"),
        &[("Authorization", "Bearer s3cret-token")],
    );
    assert_eq!(status, 200);
    let basic = base64::engine::general_purpose::STANDARD.encode("anyone:s3cret-token");
    let basic = format!("Basic {basic}");
    let (status, _) = get(
        &agent,
        &server.url("/namespace"),
        &[("Authorization", &basic)],
    );
    assert_eq!(status, 200);
    // The probes need no token.
    assert_eq!(get(&agent, &server.url("/healthz"), &[]).0, 200);
    assert_eq!(get(&agent, &server.url("/readyz"), &[]).0, 200);
    // And the refusal carries go's client's way in.
    let response = agent.get(&server.url("/")).call().unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["www-authenticate"],
        "Basic realm=\"coordinated\""
    );
}

/// One raw HTTP/1.1 request; the status and body.
fn raw(port: u16, request: &str) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let status = text[9..12].parse().unwrap();
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn a_foreign_host_is_refused_without_a_token() {
    let server = Server::memory(&["--allow-host", "coordinate.internal"]);
    let ask = |host: &str| {
        raw(
            server.port,
            &format!("GET /namespace HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
        )
    };
    let (status, body) = ask("evil.example:80");
    assert_eq!(status, 403, "{body}");
    assert_eq!(json(&body)["error"], "error");
    assert_eq!(ask(&format!("localhost:{}", server.port)).0, 200);
    assert_eq!(ask(&format!("127.0.0.1:{}", server.port)).0, 200);
    assert_eq!(ask("coordinate.internal").0, 200);
}

#[test]
fn malformed_bodies_and_bad_names_are_refused_and_change_nothing() {
    let server = Server::memory(&[]);
    let agent = agent();
    let (status, body) = post(&agent, &server.url("/namespace"), "{\"name\": ", &[]);
    assert_eq!(status, 400);
    assert!(
        json(&body)["message"].as_str().unwrap().contains("JSON"),
        "{body}"
    );
    let (status, body) = post(&agent, &server.url("/namespace"), "{\"name\": 7}", &[]);
    assert_eq!(status, 400, "{body}");
    let (status, body) = get(&agent, &server.url("/namespace/-!!/work_spec"), &[]);
    assert_eq!(status, 400);
    assert!(
        json(&body)["message"]
            .as_str()
            .unwrap()
            .contains("encoded name"),
        "{body}"
    );
    let (status, body) = post(
        &agent,
        &server.url("/namespace/-%21/work_spec"),
        "{\"data\": {\"name\": \"s\"}}",
        &[],
    );
    assert_eq!(status, 400, "{body}");
    let (_, list) = get(&agent, &server.url("/namespace"), &[]);
    assert_eq!(json(&list)["namespaces"], serde_json::json!([]), "{list}");
}

#[test]
fn test_clock_headers_are_refused_by_default() {
    let server = Server::memory(&[]);
    let (status, body) = get(
        &agent(),
        &server.url("/namespace"),
        &[
            ("X-Coordinate-Test-Session", "s"),
            ("X-Coordinate-Test-Time", "2026-01-01T00:00:00Z"),
        ],
    );
    assert_eq!(status, 400);
    assert!(body.contains("--test-clock"), "{body}");
    let server = Server::memory(&["--test-clock"]);
    let (status, _) = get(
        &agent(),
        &server.url("/namespace"),
        &[
            ("X-Coordinate-Test-Session", "s"),
            ("X-Coordinate-Test-Time", "2026-01-01T00:00:00Z"),
        ],
    );
    assert_eq!(status, 200);
}

#[test]
fn sigterm_lets_a_request_in_flight_finish_and_exits_zero() {
    let mut server = Server::memory(&["--grace", "10s"]);
    let url = server.url("/namespace/n/wait_for_work");
    let waiter = std::thread::spawn(move || {
        let started = Instant::now();
        let answer = post(&agent(), &url, "{\"timeout\": 2000000000}", &[]);
        (answer, started.elapsed())
    });
    std::thread::sleep(Duration::from_millis(500));
    server.terminate();
    let ((status, body), took) = waiter.join().unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["wakeup"], "timed_out");
    assert!(took >= Duration::from_millis(1900), "{took:?}");
    let (exit, stderr) = server.wait(Duration::from_secs(10));
    assert!(exit.success(), "{exit:?}: {stderr}");
}

#[test]
fn tls_serves_with_a_pem_certificate() {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let dir = scratch("tls");
    let (cert_path, key_path) = (dir.join("server.crt"), dir.join("server.key"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();

    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let server = Server::start(
        port,
        "https",
        &[
            "-backend",
            "memory",
            "-http",
            &addr,
            "--tls-cert",
            cert_path.to_str().unwrap(),
            "--tls-key",
            key_path.to_str().unwrap(),
        ],
    );
    let ca_der = ca.der().to_vec();
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::Specific(Arc::new(vec![
            ureq::tls::Certificate::from_der(&ca_der).to_owned(),
        ])))
        .build();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .tls_config(tls)
        .build()
        .into();
    let (status, body) = get(&agent, &server.url("/namespace"), &[]);
    assert_eq!(status, 200, "{body}");
    // Plain HTTP on the TLS port gets no answer.
    assert!(agent
        .get(format!("http://127.0.0.1:{port}/namespace"))
        .call()
        .is_err());
}

#[test]
fn a_proxy_serves_another_servers_store() {
    let upstream = Server::memory(&[]);
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let proxy = Server::start(port, "http", &["-backend", &upstream.base, "-http", &addr]);
    let agent = agent();
    let (status, body) = post(
        &agent,
        &proxy.url("/namespace"),
        "{\"name\": \"through\"}",
        &[],
    );
    assert_eq!(status, 201, "{body}");
    let (_, list) = get(&agent, &upstream.url("/namespace"), &[]);
    assert_eq!(json(&list)["namespaces"][0]["name"], "through", "{list}");
}

#[test]
fn metrics_show_the_postgres_pool_and_requests_by_route_template_and_a_404_creates_nothing() {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let database = coordinate_postgres::test_support::database_url();
    let server = Server::start(port, "http", &["-backend", &database, "-http", &addr]);
    let agent = agent();
    // A name unique to this run: the test database is shared.
    let ghost = format!(
        "metrics-ghost-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    );
    // A unit name in the path must not become a label.
    let (status, _) = common::answer(
        agent
            .get(&server.url(&format!("/namespace/{ghost}/work_spec/no-such-spec")))
            .call(),
    );
    assert_eq!(status, 404);
    // The failed lookup left no new namespace behind.
    let (_, namespaces) = common::answer(agent.get(&server.url("/namespace")).call());
    assert!(!namespaces.contains(&ghost), "{namespaces}");
    let (status, text) = common::answer(agent.get(&server.url("/metrics")).call());
    assert_eq!(status, 200);
    for line in [
        "# TYPE coordinated_pool_connections gauge",
        "coordinated_pool_max_connections 10",
        "# TYPE coordinate_summary_seconds histogram",
        "route=\"/namespace/{namespace}/work_spec/{spec}\"",
    ] {
        assert!(text.contains(line), "/metrics lacks {line:?}:\n{text}");
    }
    assert!(
        !text.contains("no-such-spec"),
        "a raw path became a label:\n{text}"
    );
    assert!(!text.contains("secret"), "{text}");
}

#[test]
fn the_backend_may_come_from_the_environment_and_its_password_never_shows() {
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_coordinated"))
            .args(args)
            .env(
                coordinated::cli::BACKEND_VAR,
                "postgres://u:hunter2@127.0.0.1:1/db?connect_timeout=2",
            )
            .stdin(std::process::Stdio::null())
            .output()
            .expect("running coordinated")
    };
    let help = run(&["--help"]);
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("COORDINATED_BACKEND") && !help.contains("hunter2"),
        "{help}"
    );
    // Nothing listens on port 1: the server fails to open its store, naming
    // the server but not the password.
    let failed = run(&["-http", "127.0.0.1:0"]);
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert_eq!(failed.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("PostgreSQL") && !stderr.contains("hunter2"),
        "{stderr}"
    );
}

/// Polls `/readyz` until it answers `status`, for at most `limit`.
fn readiness_becomes(agent: &ureq::Agent, server: &Server, status: u16, limit: Duration) {
    let until = Instant::now() + limit;
    loop {
        let (now, body) = get(agent, &server.url("/readyz"), &[]);
        if now == status {
            return;
        }
        assert!(
            Instant::now() < until,
            "/readyz stayed {now} ({body}), not {status}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn readyz_is_unready_while_no_primary_takes_writes() {
    use throwaway_postgres::Cluster;
    let mut primary = Cluster::init().expect("initdb");
    primary
        .start(&[("synchronous_standby_names", "*"), ("fsync", "off")])
        .expect("the primary starts");
    let standby = primary.start_standby(&[]).expect("the standby starts");
    primary
        .wait_for_standby(true, Duration::from_secs(60))
        .expect("the standby streams");
    let both = throwaway_postgres::read_write_url(&[&primary, &standby], "postgres");
    let agent = agent();
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let server = Server::start(port, "http", &["-backend", &both, "-http", &addr]);
    readiness_becomes(&agent, &server, 200, Duration::from_secs(20));

    // Straight to the standby (once it has the schema): it answers reads
    // but takes no writes, so it is not ready.
    let migrations = "SELECT count(*) FROM __diesel_schema_migrations";
    let applied = primary.query("postgres", migrations).expect("the schema");
    while standby.query("postgres", migrations).unwrap_or_default() != applied {
        std::thread::sleep(Duration::from_millis(50));
    }
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let on_standby = Server::start(
        port,
        "http",
        &["-backend", &standby.url("postgres"), "-http", &addr],
    );
    readiness_becomes(&agent, &on_standby, 503, Duration::from_secs(20));

    primary.kill().expect("killing the primary");
    readiness_becomes(&agent, &server, 503, Duration::from_secs(20));
    standby.promote().expect("promoting the standby");
    readiness_becomes(&agent, &server, 200, Duration::from_secs(30));
    readiness_becomes(&agent, &on_standby, 200, Duration::from_secs(30));
}
