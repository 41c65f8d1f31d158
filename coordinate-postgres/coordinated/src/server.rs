//! Starting and stopping: the store, the listener, the sampler, serving
//! until SIGTERM or SIGINT, then draining within the grace period.

use std::sync::Arc;
use std::time::Duration;

use coordinate_api::{Coordinate, SystemClock};
use tokio::net::TcpListener;

use crate::auth::Token;
use crate::backend::BackendSpec;
use crate::cli::{is_loopback, Cli};
use crate::error::ServerError;
use crate::listener::{ConnInfo, ServerListener};
use crate::logging::RequestLog;
use crate::sampler::SummarySampler;
use crate::shutdown::{self, Drained, Stop};
use crate::state::{AppState, ServerConfig};
use crate::test_clock::TestSessions;

/// Idle connections outlive the longest request by this much.
const IDLE_MARGIN: Duration = Duration::from_secs(5);

/// Everything the command line decided, checked, before serving.
pub struct Prepared {
    backend: BackendSpec,
    config: ServerConfig,
    cli: Cli,
}

/// Checks the command line (no store opened, nothing bound yet).
pub fn prepare(cli: Cli) -> Result<Prepared, ServerError> {
    if cli.cborrpc.is_some() {
        return Err(ServerError::Usage(crate::cli::CBORRPC_REFUSAL.to_owned()));
    }
    if let Some(path) = &cli.config {
        std::fs::metadata(path).map_err(|source| ServerError::File {
            what: "-config",
            path: path.display().to_string(),
            source,
        })?;
        tracing::warn!(
            "-config: only go's CBOR-RPC interface reads this file, and it is not served; ignored"
        );
    }
    let backend = BackendSpec::parse(&cli.backend)?;
    if cli.test_clock && matches!(backend, BackendSpec::Http(_)) {
        return Err(ServerError::Usage(
            "--test-clock serves memory and PostgreSQL backends, not a proxied server".to_owned(),
        ));
    }
    let token = cli
        .token_file
        .as_deref()
        .map(Token::from_file)
        .transpose()?;
    let config = ServerConfig {
        path_prefix: cli.path_prefix.clone(),
        token,
        allowed_hosts: cli.allow_host.clone(),
        max_body_bytes: cli.max_body_bytes,
        request_timeout: cli.request_timeout.max(Duration::from_secs(1)),
        store_concurrency: backend.store_concurrency(),
        max_waiting: cli.max_waiting,
        request_log: cli
            .log_requests
            .then(|| RequestLog::from_flag(&cli.log_format))
            .flatten(),
        read_only: cli.read_only,
        secure_cookies: cli.tls_cert.is_some(),
    };
    Ok(Prepared {
        backend,
        config,
        cli,
    })
}

/// Opens the store, binds, serves until a signal, drains. Returns once
/// serving has stopped.
pub async fn run(prepared: Prepared) -> Result<(), ServerError> {
    let Prepared {
        backend,
        config,
        cli,
    } = prepared;
    let tls = match (&cli.tls_cert, &cli.tls_key) {
        (Some(cert), Some(key)) => Some(crate::tls::server_config(cert, key)?),
        _ => None,
    };
    tracing::info!(backend = %backend, "opening the store");
    let opening = backend.clone();
    let (store, pool): (Arc<dyn Coordinate>, _) =
        tokio::task::spawn_blocking(move || opening.open_with_pool(Arc::new(SystemClock)))
            .await
            .map_err(|_| ServerError::Usage("opening the store panicked".to_owned()))??;
    let sessions = cli.test_clock.then(|| {
        tracing::warn!(
            "--test-clock is ON: clients can set this server's clock per session with \
             X-Coordinate-Test-* headers. For test suites only; never in production."
        );
        Arc::new(TestSessions::new(backend.clone()))
    });

    let addr = cli.listen_addr().map_err(ServerError::Usage)?;
    let socket = TcpListener::bind(&addr)
        .await
        .map_err(|source| ServerError::Listen {
            addr: addr.clone(),
            source,
        })?;
    let local = socket.local_addr().map_err(|source| ServerError::Listen {
        addr: addr.clone(),
        source,
    })?;
    if config.token.is_none() && !is_loopback(&local) {
        tracing::warn!(
            %local,
            "listening beyond loopback without --token-file: anyone who can reach this \
             address can change the store"
        );
    }
    let idle = cli.idle_timeout.max(config.request_timeout + IDLE_MARGIN);
    let listener =
        ServerListener::start(socket, tls.clone(), idle).map_err(|source| ServerError::Listen {
            addr: addr.clone(),
            source,
        })?;

    let stop = Stop::default();
    let sampler = SummarySampler::new(
        cli.metric_period.max(Duration::from_secs(1)),
        cli.log_metrics,
    );
    tokio::spawn(sampler.clone().run(store.clone(), stop.clone()));
    let state = AppState::new(store, sessions, config, sampler);
    if let Some(pool) = pool {
        state.metrics().watch_pool(pool);
    }
    let app = crate::app::router(state);
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(address = %local, %scheme, "serving go-coordinate's REST API");

    let waiting = stop.clone();
    let serving = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<ConnInfo>(),
    )
    .with_graceful_shutdown(async move { waiting.wait().await });
    let signals = stop.clone();
    tokio::spawn(async move {
        shutdown::signal().await;
        signals.trigger();
    });
    let serving = async move {
        if let Err(e) = serving.await {
            tracing::error!(error = %e, "serving failed");
        }
    };
    match shutdown::drain(serving, stop, cli.grace).await {
        Drained::Finished => tracing::info!("stopped: every request finished"),
        Drained::GraceExpired => tracing::warn!(
            grace = ?cli.grace,
            "stopped: the grace period ran out with requests still in flight"
        ),
    }
    Ok(())
}
