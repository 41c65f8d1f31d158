//! [`RestCoordinate`]: the coordinate-api traits over HTTP, against a
//! `coordinated` server (or go-coordinate's own).
//!
//! Handles are cheap: the shared connection state, the URLs the server
//! handed out and the names. Every call is one or more HTTP requests;
//! nothing is cached, so every answer is the server's current state.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use coordinate_api::{Clock, Coordinate, Error, Namespace, Result, Summary};

use crate::wire::shapes::{self, RootData};
use crate::wire::values::SummaryRecordJson;

mod attempt;
mod http;
mod namespace;
mod url;
mod work_spec;
mod work_unit;
mod worker;

pub use attempt::RestAttempt;
pub use namespace::RestNamespace;
pub use work_spec::RestWorkSpec;
pub use work_unit::RestWorkUnit;
pub use worker::RestWorker;

use http::{Shared, TestClock};
use url::{fill, ServerUrl};

/// A coordinate served over HTTP by `coordinated`.
///
/// Build one with [`RestCoordinate::new`] or [`RestCoordinate::builder`].
/// All handles made from it share one keep-alive connection pool.
pub struct RestCoordinate {
    shared: Arc<Shared>,
    root: RootData,
}

impl fmt::Debug for RestCoordinate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RestCoordinate")
            .field("server", &self.shared)
            .finish()
    }
}

/// Settings of a [`RestCoordinate`] before it connects.
pub struct RestCoordinateBuilder {
    url: String,
    token: Option<String>,
    timeout: Option<Duration>,
    test_clock: Option<(Arc<dyn Clock>, u64)>,
    test_session: Option<String>,
}

impl fmt::Debug for RestCoordinateBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let server = ServerUrl::parse(&self.url).ok();
        f.debug_struct("RestCoordinateBuilder")
            .field("server", &server)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("timeout", &self.timeout)
            .field("test_session", &self.test_session)
            .finish()
    }
}

/// Numbers the test sessions this process makes.
static SESSIONS: AtomicU64 = AtomicU64::new(0);

impl RestCoordinateBuilder {
    /// Sends `token` as `Authorization: Bearer <token>` on every request
    /// (instead of credentials in the URL, which go as HTTP Basic).
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Gives up on a request after `timeout` (by default requests wait
    /// as long as the server takes). `wait_for_work` gets its own wait on
    /// top.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sends `clock`'s time and `seed` with every request, for a server
    /// started with `--test-clock`: the server runs this coordinate's
    /// calls on a store of their own with a mock clock set to that time
    /// and a scheduler seeded with `seed`.
    pub fn test_clock(mut self, clock: Arc<dyn Clock>, seed: u64) -> Self {
        self.test_clock = Some((clock, seed));
        self
    }

    /// Names the test session (by default each builder gets a session of
    /// its own). Coordinates given the same id share one store on the
    /// server, as processes sharing a database do.
    pub fn test_session(mut self, id: impl Into<String>) -> Self {
        self.test_session = Some(id.into());
        self
    }

    /// Connects: reads the server's root document.
    ///
    /// Errors: [`Error::InvalidInput`] for a URL that is not `http://` or
    /// `https://`; [`Error::Backend`] when the server cannot be reached
    /// or answers with something else than a root document.
    pub fn build(self) -> Result<RestCoordinate> {
        let server = ServerUrl::parse(&self.url)?;
        let authorization = match self.token {
            Some(token) => Some(format!("Bearer {token}")),
            None => server.basic_auth.clone(),
        };
        let test_clock = self.test_clock.map(|(clock, seed)| TestClock {
            clock,
            seed,
            session: self.test_session.unwrap_or_else(|| {
                format!(
                    "{}-{}",
                    std::process::id(),
                    SESSIONS.fetch_add(1, Ordering::Relaxed)
                )
            }),
        });
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_idle_connections_per_host(64)
            .max_idle_connections(64)
            .build()
            .into();
        let shared = Arc::new(Shared {
            agent,
            server,
            authorization,
            test_clock,
            timeout: self.timeout,
        });
        let root: RootData = shared.get(&shared.server.root())?;
        Ok(RestCoordinate { shared, root })
    }
}

impl RestCoordinate {
    /// Connects to the server at `url` (`http://host:5980/`, with
    /// `http://any:TOKEN@host:5980/` for a server that wants a token)
    /// with the default settings.
    ///
    /// Errors: as [`RestCoordinateBuilder::build`].
    pub fn new(url: &str) -> Result<RestCoordinate> {
        RestCoordinate::builder(url).build()
    }

    /// Settings for a connection to the server at `url`.
    pub fn builder(url: &str) -> RestCoordinateBuilder {
        RestCoordinateBuilder {
            url: url.to_owned(),
            token: None,
            timeout: None,
            test_clock: None,
            test_session: None,
        }
    }

    /// The test session id this coordinate's requests carry, if it has a
    /// test clock.
    pub fn test_session(&self) -> Option<&str> {
        self.shared.test_clock.as_ref().map(|t| t.session.as_str())
    }
}

/// A list of summary records as the trait gives them.
fn summary(records: Vec<SummaryRecordJson>) -> Summary {
    coordinate_api::summary::normalize_summary(
        records
            .into_iter()
            .filter_map(SummaryRecordJson::into_record)
            .collect(),
    )
}

impl Coordinate for RestCoordinate {
    fn namespace(&self, name: &str) -> Result<Arc<dyn Namespace>> {
        coordinate_api::backend::validate::validate_name("namespace name", name)?;
        let url = fill(&self.root.namespace_url, "namespace", name);
        let repr: shapes::Namespace = self.shared.get(&url)?;
        Ok(Arc::new(RestNamespace::new(self.shared.clone(), repr)))
    }

    fn namespaces(&self) -> Result<Vec<Arc<dyn Namespace>>> {
        let list: shapes::NamespaceList = self.shared.get(&self.root.namespaces_url)?;
        let mut namespaces: Vec<Arc<dyn Namespace>> = Vec::new();
        for short in list.namespaces {
            let repr: shapes::Namespace = match self.shared.get(&short.url) {
                Ok(repr) => repr,
                // Destroyed since the list was made.
                Err(Error::Gone { .. }) => continue,
                Err(other) => return Err(other),
            };
            namespaces.push(Arc::new(RestNamespace::new(self.shared.clone(), repr)));
        }
        namespaces.sort_by(|a, b| a.name().cmp(b.name()));
        Ok(namespaces)
    }

    fn summarize(&self) -> Result<Summary> {
        Ok(summary(self.shared.get(&self.root.summary_url)?))
    }
}
