//! Running store calls: on tokio's blocking pool, a bounded number at a
//! time, with a bounded queue in front (beyond it: 503 + `Retry-After`).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use coordinate_api::Coordinate;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;
use crate::handles::HandleRegistry;
use crate::routes::scope::{reference, Scope};
use crate::routes::urls::Urls;
use crate::state::AppState;
use crate::test_clock::{TestSession, TestSessions};

/// The store and the gate in front of it.
pub struct Store {
    main: Arc<dyn Coordinate>,
    handles: Arc<HandleRegistry>,
    sessions: Option<Arc<TestSessions>>,
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    max_waiting: usize,
    refused: AtomicU64,
}

impl Store {
    /// `concurrency` calls run at once; up to `max_waiting` more wait.
    /// `sessions` is `Some` with `--test-clock`.
    pub fn new(
        main: Arc<dyn Coordinate>,
        sessions: Option<Arc<TestSessions>>,
        concurrency: usize,
        max_waiting: usize,
    ) -> Self {
        Store {
            main,
            handles: Arc::new(HandleRegistry::default()),
            sessions,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            waiting: AtomicUsize::new(0),
            max_waiting,
            refused: AtomicU64::new(0),
        }
    }

    /// The server's own store (never a test session's).
    pub fn main(&self) -> Arc<dyn Coordinate> {
        self.main.clone()
    }

    /// Whether `--test-clock` is on.
    pub fn test_clock(&self) -> bool {
        self.sessions.is_some()
    }

    /// Requests waiting for a store call now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// Requests refused with 503 since the start.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Runs `call` on the blocking pool once a slot is free, on the test
    /// session's store if the request names one, with the registry of the
    /// handles handed out from that store.
    pub async fn run<T, F>(&self, session: Option<TestSession>, call: F) -> Result<T, ApiError>
    where
        F: FnOnce(&dyn Coordinate, &HandleRegistry) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let permit = self.admit().await?;
        self.spawn(session, Some(permit), call).await
    }

    /// Runs `call` on the blocking pool without taking a slot: for calls
    /// that mostly wait (`wait_for_work`), which must not starve the rest.
    pub async fn run_waiting<T, F>(
        &self,
        session: Option<TestSession>,
        call: F,
    ) -> Result<T, ApiError>
    where
        F: FnOnce(&dyn Coordinate, &HandleRegistry) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        self.spawn(session, None, call).await
    }

    async fn spawn<T, F>(
        &self,
        session: Option<TestSession>,
        permit: Option<OwnedSemaphorePermit>,
        call: F,
    ) -> Result<T, ApiError>
    where
        F: FnOnce(&dyn Coordinate, &HandleRegistry) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let main = (self.main.clone(), self.handles.clone());
        let sessions = self.sessions.clone();
        let joined = tokio::task::spawn_blocking(move || {
            let _slot = permit;
            let (coordinate, handles) = match (session, sessions) {
                (Some(session), Some(sessions)) => sessions.resolve(&session)?,
                _ => main,
            };
            call(&*coordinate, &handles)
        })
        .await;
        joined.unwrap_or_else(|e| {
            tracing::error!(error = %e, "a store call panicked");
            Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the store call failed unexpectedly",
            ))
        })
    }

    async fn admit(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        if let Ok(permit) = self.permits.clone().try_acquire_owned() {
            return Ok(permit);
        }
        let _waiting = Waiting::enter(&self.waiting);
        if self.waiting.load(Ordering::Relaxed) > self.max_waiting {
            self.refused.fetch_add(1, Ordering::Relaxed);
            return Err(ApiError::busy());
        }
        Ok(self
            .permits
            .clone()
            .acquire_owned()
            .await
            .expect("the store's semaphore is never closed"))
    }
}

/// Counts a request as waiting while it lives.
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn enter(counter: &'a AtomicUsize) -> Self {
        counter.fetch_add(1, Ordering::Relaxed);
        Waiting(counter)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A handler's way to the store: the state's [`Store`], the request's
/// test session, if any (400 when its headers are sent without
/// `--test-clock`, or are malformed), and the handle token of its `ref`
/// query parameter, if any (400 when it is not one).
pub struct StoreCall {
    state: AppState,
    session: Option<TestSession>,
    reference: Option<u64>,
}

impl StoreCall {
    /// Runs `call` through the gate (see [`Store::run`]), in the
    /// request's [`Scope`].
    pub async fn run<T, F>(self, call: F) -> Result<T, ApiError>
    where
        F: FnOnce(&Scope<'_>) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        self.in_scope(Gate::Take, call).await
    }

    /// Runs `call` outside the gate (see [`Store::run_waiting`]).
    pub async fn run_waiting<T, F>(self, call: F) -> Result<T, ApiError>
    where
        F: FnOnce(&Scope<'_>) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        self.in_scope(Gate::Bypass, call).await
    }

    /// Runs `call` in the request's [`Scope`], through the gate or not.
    async fn in_scope<T, F>(self, gate: Gate, call: F) -> Result<T, ApiError>
    where
        F: FnOnce(&Scope<'_>) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let (urls, reference) = (self.urls(), self.reference);
        let scoped = move |c: &dyn Coordinate, handles: &HandleRegistry| {
            call(&Scope::new(c, handles, reference, urls))
        };
        let store = self.state.store();
        match gate {
            Gate::Take => store.run(self.session, scoped).await,
            Gate::Bypass => store.run_waiting(self.session, scoped).await,
        }
    }

    /// The server state, for URLs and limits.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// This server's URLs.
    pub fn urls(&self) -> Urls {
        Urls::new(&self.state.config().path_prefix)
    }
}

impl FromRequestParts<AppState> for StoreCall {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let session = TestSession::from_headers(&parts.headers, state.store().test_clock())?;
        let reference = reference(parts.uri.query())?;
        Ok(StoreCall {
            state: state.clone(),
            session,
            reference,
        })
    }
}

/// Whether a call takes one of the store's slots.
#[derive(Debug, Clone, Copy)]
enum Gate {
    /// Waits for a slot (or is refused with 503 beyond `--max-waiting`).
    Take,
    /// Runs without one: calls that mostly wait.
    Bypass,
}
