//! What every request handler shares: the store, the settings, metrics.

use std::sync::Arc;
use std::time::Duration;

use coordinate_api::Coordinate;

use crate::auth::Token;
use crate::dashboard::session::Sessions;
use crate::logging::RequestLog;
use crate::metrics::Metrics;
use crate::sampler::SummarySampler;
use crate::store::Store;
use crate::test_clock::TestSessions;

/// The server's settings that requests see.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Every route lives under this path (`""` or `/prefix`).
    pub path_prefix: String,
    /// The API token; `None` serves without one (and checks `Host:`).
    pub token: Option<Token>,
    /// Host names accepted in `Host:` besides the listening address and
    /// `localhost`.
    pub allowed_hosts: Vec<String>,
    /// The largest request body, in bytes.
    pub max_body_bytes: usize,
    /// The longest a request may take.
    pub request_timeout: Duration,
    /// Store calls that run at once.
    pub store_concurrency: usize,
    /// Requests that may wait for a store call.
    pub max_waiting: usize,
    /// go's `-log-requests` / `-log-format`.
    pub request_log: Option<RequestLog>,
    /// `--read-only`: no request may change the store.
    pub read_only: bool,
    /// Session cookies only over HTTPS (the server serves TLS).
    pub secure_cookies: bool,
}

impl Default for ServerConfig {
    /// No prefix, no token, loopback names only, the command line's
    /// default limits, no request log.
    fn default() -> Self {
        ServerConfig {
            path_prefix: String::new(),
            token: None,
            allowed_hosts: Vec::new(),
            max_body_bytes: crate::cli::DEFAULT_MAX_BODY_BYTES,
            request_timeout: Duration::from_secs(60),
            store_concurrency: 8,
            max_waiting: 256,
            request_log: None,
            read_only: false,
            secure_cookies: false,
        }
    }
}

struct Shared {
    store: Store,
    config: ServerConfig,
    metrics: Metrics,
    sampler: Arc<SummarySampler>,
    sessions: Sessions,
}

/// The state handlers receive: cheap to clone.
#[derive(Clone)]
pub struct AppState {
    shared: Arc<Shared>,
}

impl AppState {
    /// State over `coordinate`; `sessions` is `Some` with `--test-clock`.
    pub fn new(
        coordinate: Arc<dyn Coordinate>,
        sessions: Option<Arc<TestSessions>>,
        config: ServerConfig,
        sampler: Arc<SummarySampler>,
    ) -> Self {
        let store = Store::new(
            coordinate,
            sessions,
            config.store_concurrency,
            config.max_waiting,
        );
        AppState {
            shared: Arc::new(Shared {
                store,
                config,
                metrics: Metrics::default(),
                sampler,
                sessions: Sessions::default(),
            }),
        }
    }

    /// The store and its gate.
    pub fn store(&self) -> &Store {
        &self.shared.store
    }

    /// The settings.
    pub fn config(&self) -> &ServerConfig {
        &self.shared.config
    }

    /// Request counts and latencies.
    pub fn metrics(&self) -> &Metrics {
        &self.shared.metrics
    }

    /// The work unit summary sampler behind `/metrics`.
    pub fn sampler(&self) -> &Arc<SummarySampler> {
        &self.shared.sampler
    }

    /// The dashboard's browser sessions.
    pub fn sessions(&self) -> &Sessions {
        &self.shared.sessions
    }

    /// An absolute path on this server: the prefix, then `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.shared.config.path_prefix)
    }
}
