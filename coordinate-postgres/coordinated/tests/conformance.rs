//! The whole conformance suite through client → server → backend, as
//! go-coordinate runs its suite through its REST client and server: once
//! over the memory backend and once over PostgreSQL (the test database of
//! `DATABASE_URL`, or libpq's `PG*` environment).
//!
//! One `coordinated --test-clock` per backend serves every case, on a
//! thread of this process (so it ends with it), over real HTTP on a
//! loopback port. Each case keeps its own clock and scheduler seed: its
//! client sends them with every request, with a session id shared by every
//! coordinate the case makes (cases that simulate several processes call
//! the backend more than once with the same clock).

mod common;

use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use coordinate_api::{Clock, Coordinate, MockClock};
use coordinate_rest::RestCoordinate;
use coordinated::cli::parse_args;
use coordinated::server;

/// Starts `coordinated --test-clock -backend BACKEND` on a thread of its
/// own and waits until it answers; returns its base URL.
fn serve(backend: String) -> String {
    let port = common::free_port();
    let address = format!("127.0.0.1:{port}");
    let args = [
        "coordinated".to_owned(),
        "--test-clock".to_owned(),
        "--backend".to_owned(),
        backend,
        "--http".to_owned(),
        address.clone(),
    ];
    let cli = parse_args(args).expect("the server's flags");
    let prepared = server::prepare(cli).expect("a valid server configuration");
    std::thread::Builder::new()
        .name("coordinated".to_owned())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a tokio runtime");
            if let Err(error) = runtime.block_on(server::run(prepared)) {
                panic!("coordinated stopped: {error}");
            }
        })
        .expect("the server's thread");
    let base = format!("http://{address}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let agent = common::agent();
    while agent.get(&format!("{base}/healthz")).call().is_err() {
        assert!(
            Instant::now() < deadline,
            "coordinated did not start on {address}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    base
}

/// The session id of a case: one per clock, so every coordinate a case
/// makes shares the server-side store of its session.
fn session_of(clock: &Arc<MockClock>) -> String {
    static SESSIONS: Mutex<Vec<(Weak<MockClock>, String)>> = Mutex::new(Vec::new());
    static NEXT: Mutex<u64> = Mutex::new(0);
    let mut sessions = SESSIONS.lock().expect("sessions");
    sessions.retain(|(weak, _)| weak.strong_count() > 0);
    if let Some((_, id)) = sessions
        .iter()
        .find(|(weak, _)| weak.upgrade().is_some_and(|c| Arc::ptr_eq(&c, clock)))
    {
        return id.clone();
    }
    let mut next = NEXT.lock().expect("counter");
    *next += 1;
    let id = format!("case-{}-{}", std::process::id(), *next);
    sessions.push((Arc::downgrade(clock), id.clone()));
    id
}

/// A client of the server at `base` for one case's clock and seed.
fn client(base: &str, clock: Arc<MockClock>, seed: u64) -> Arc<dyn Coordinate> {
    let session = session_of(&clock);
    let clock: Arc<dyn Clock> = clock;
    Arc::new(
        RestCoordinate::builder(base)
            .test_clock(clock, seed)
            .test_session(session)
            .build()
            .expect("a client of the test server"),
    )
}

mod through_memory {
    use super::*;

    fn base() -> &'static str {
        static BASE: OnceLock<String> = OnceLock::new();
        BASE.get_or_init(|| serve("memory".to_owned()))
    }

    coordinate_conformance::conformance_tests!(|clock, seed| client(base(), clock, seed));
}

mod through_postgres {
    use super::*;

    fn base() -> &'static str {
        static BASE: OnceLock<String> = OnceLock::new();
        BASE.get_or_init(|| serve(coordinate_postgres::test_support::database_url()))
    }

    coordinate_conformance::conformance_tests!(|clock, seed| client(base(), clock, seed));
}
