//! `--test-clock`: one store per test session, each with its own mock clock
//! and scheduler seed, so that parallel conformance cases share one server.
//!
//! A request may carry [`SESSION_HEADER`], [`TIME_HEADER`] (RFC 3339 with
//! nanoseconds) and [`SEED_HEADER`] (a `u64`). With `--test-clock`, the
//! first request of a session makes its store from the backend (a
//! [`MockClock`] and the seed; PostgreSQL with a pool of two, and a
//! listener once the session first waits for work) and a registry of the
//! handles handed out from it; every request sets that session's clock
//! to its time and runs on that store; a session no request has used for
//! [`SESSION_IDLE`], and none holds, is dropped. Without `--test-clock`
//! the headers are refused (400), so a production server cannot be
//! driven by them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use coordinate_api::{Coordinate, MockClock};

use crate::backend::BackendSpec;
use crate::error::ApiError;
use crate::handles::HandleRegistry;

pub use coordinate_rest::wire::{
    TEST_SEED_HEADER as SEED_HEADER, TEST_SESSION_HEADER as SESSION_HEADER,
    TEST_TIME_HEADER as TIME_HEADER,
};
/// How long a session's store is kept once no request uses it. Short,
/// since a suite run in one process starts a session per case and each
/// PostgreSQL session holds its pool's connections while it lives; a
/// request in flight (a long `wait_for_work`) keeps its session anyway.
pub const SESSION_IDLE: Duration = Duration::from_secs(10);

/// What one request's test-clock headers say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestSession {
    /// The session id.
    pub id: String,
    /// The time to set the session's clock to.
    pub time: DateTime<Utc>,
    /// The scheduler seed (used only when the session's store is made).
    pub seed: u64,
}

impl TestSession {
    /// Reads the headers: `None` without any of them; 400 when they are
    /// sent to a server without `--test-clock`, or are incomplete or
    /// malformed.
    pub fn from_headers(headers: &HeaderMap, enabled: bool) -> Result<Option<Self>, ApiError> {
        let text = |name: &str| -> Result<Option<&str>, ApiError> {
            headers
                .get(name)
                .map(|v| {
                    v.to_str()
                        .map_err(|_| ApiError::bad_request(format!("{name} is not ASCII text")))
                })
                .transpose()
        };
        let id = text(SESSION_HEADER)?;
        let time = text(TIME_HEADER)?;
        let seed = text(SEED_HEADER)?;
        if id.is_none() && time.is_none() && seed.is_none() {
            return Ok(None);
        }
        if !enabled {
            return Err(ApiError::bad_request(
                "X-Coordinate-Test-* headers are refused: this server was not started with \
                 --test-clock",
            ));
        }
        let (Some(id), Some(time)) = (id, time) else {
            return Err(ApiError::bad_request(format!(
                "a test-clock request needs both {SESSION_HEADER} and {TIME_HEADER}"
            )));
        };
        let time = DateTime::parse_from_rfc3339(time)
            .map_err(|e| ApiError::bad_request(format!("{TIME_HEADER}: not RFC 3339 ({e})")))?
            .with_timezone(&Utc);
        let seed = match seed {
            None => 0,
            Some(seed) => seed
                .parse()
                .map_err(|_| ApiError::bad_request(format!("{SEED_HEADER}: not a u64")))?,
        };
        Ok(Some(TestSession {
            id: id.to_owned(),
            time,
            seed,
        }))
    }
}

struct Session {
    clock: Arc<MockClock>,
    coordinate: Arc<dyn Coordinate>,
    handles: Arc<HandleRegistry>,
    last_used: Instant,
}

/// A session's store and the registry of the handles handed out from it.
pub type SessionStore = (Arc<dyn Coordinate>, Arc<HandleRegistry>);

/// The live sessions' stores.
pub struct TestSessions {
    backend: BackendSpec,
    sessions: Mutex<HashMap<String, Session>>,
}

impl TestSessions {
    /// No sessions yet; each will be made from `backend`.
    pub fn new(backend: BackendSpec) -> Self {
        TestSessions {
            backend,
            sessions: Mutex::new(HashMap::new()),
        }
    }

    /// How many sessions are alive.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no session is alive.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The session's store with its clock set to the request's time, made
    /// on first use, and the registry of the handles handed out from it
    /// (its own, so that it goes with the store). Blocks (a PostgreSQL
    /// store connects): call it on the blocking pool.
    pub fn resolve(&self, session: &TestSession) -> Result<SessionStore, ApiError> {
        let stale = self.take_stale(SESSION_IDLE);
        drop(stale);
        if let Some(found) = self.touch(session) {
            return Ok(found);
        }
        // Made outside the lock: connecting may take a while.
        let clock = Arc::new(MockClock::new(session.time));
        let coordinate = self
            .backend
            .open_session(clock.clone(), session.seed)
            .map_err(|e| {
                ApiError::new(
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    format!("making the test session's store: {e}"),
                )
            })?;
        let mut sessions = self.lock();
        let entry = sessions.entry(session.id.clone()).or_insert(Session {
            clock,
            coordinate,
            handles: Arc::new(HandleRegistry::default()),
            last_used: Instant::now(),
        });
        entry.clock.set(session.time);
        Ok((entry.coordinate.clone(), entry.handles.clone()))
    }

    fn touch(&self, session: &TestSession) -> Option<SessionStore> {
        let mut sessions = self.lock();
        let found = sessions.get_mut(&session.id)?;
        found.last_used = Instant::now();
        found.clock.set(session.time);
        Some((found.coordinate.clone(), found.handles.clone()))
    }

    /// Removes the sessions unused for `idle` or longer that no request
    /// holds (a request holds a clone of the store); the caller drops
    /// them outside the lock (closing a pool takes time).
    fn take_stale(&self, idle: Duration) -> Vec<Session> {
        let mut sessions = self.lock();
        let stale: Vec<String> = sessions
            .iter()
            .filter(|(_, s)| s.last_used.elapsed() >= idle && Arc::strong_count(&s.coordinate) == 1)
            .map(|(id, _)| id.clone())
            .collect();
        stale.iter().filter_map(|id| sessions.remove(id)).collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.sessions
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            let name = axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap();
            map.insert(name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn headers_are_refused_without_the_flag() {
        let h = headers(&[(SESSION_HEADER, "a"), (TIME_HEADER, "2026-01-01T00:00:00Z")]);
        assert_eq!(
            TestSession::from_headers(&h, false).unwrap_err().status,
            400
        );
        assert_eq!(
            TestSession::from_headers(&HeaderMap::new(), false),
            Ok(None)
        );
    }

    #[test]
    fn sessions_keep_their_own_clock_and_store() {
        let sessions = TestSessions::new(BackendSpec::Memory);
        let at = |id: &str, time: &str| TestSession {
            id: id.to_owned(),
            time: DateTime::parse_from_rfc3339(time)
                .unwrap()
                .with_timezone(&Utc),
            seed: 7,
        };
        let (a, _) = sessions
            .resolve(&at("a", "2026-01-01T00:00:00.5Z"))
            .unwrap();
        a.namespace("only-in-a").unwrap();
        let (b, _) = sessions.resolve(&at("b", "2030-01-01T00:00:00Z")).unwrap();
        assert!(b.namespaces().unwrap().is_empty());
        let (again, _) = sessions.resolve(&at("a", "2026-01-02T00:00:00Z")).unwrap();
        assert_eq!(again.namespaces().unwrap().len(), 1);
        assert_eq!(sessions.len(), 2);

        // Idle or not, a session a request holds stays.
        drop((a, b));
        assert_eq!(sessions.take_stale(Duration::ZERO).len(), 1);
        assert_eq!(sessions.len(), 1);
        drop(again);
        assert_eq!(sessions.take_stale(Duration::ZERO).len(), 1);
        assert!(sessions.is_empty());
    }
}
