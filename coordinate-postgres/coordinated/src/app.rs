//! The router: the API's routes, `/metrics`, the probes, and the layers
//! every request passes (outermost first: observation, JSON errors, the
//! time limit, the body limit, then `Host` and token checks for all but
//! the probes). The dashboard's pages sit on the API's own URLs, for
//! requests that ask for HTML ([`dashboard`]).

use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::get;
use axum::Router;

use crate::state::AppState;
use crate::{auth, dashboard, health, host, metrics, observe, read_only, rejections, routes};

/// Every route of the server, under `--path-prefix`, with its layers.
pub fn router(state: AppState) -> Router {
    let api_routes = routes::api()
        .route("/metrics", get(metrics::metrics_handler))
        .method_not_allowed_fallback(rejections::wrong_method)
        .fallback(rejections::no_route);
    // Browsers asking for HTML get the dashboard's page on the same URL.
    let api = api_routes
        .layer(from_fn_with_state(
            state.clone(),
            dashboard::divert_browsers,
        ))
        .layer(from_fn_with_state(state.clone(), read_only::refuse_changes))
        .layer(from_fn_with_state(state.clone(), auth::require_token))
        // The dashboard's forms check their session and CSRF token
        // themselves; sign-in must be reachable without either.
        .merge(dashboard::routes())
        .layer(from_fn_with_state(state.clone(), host::check_host));
    let probes = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz));
    let all = api.merge(probes);
    let prefix = state.config().path_prefix.clone();
    let served = if prefix.is_empty() {
        all
    } else {
        Router::new()
            .nest(&prefix, all)
            .fallback(rejections::no_route)
    };
    served
        .layer(DefaultBodyLimit::max(state.config().max_body_bytes))
        .layer(from_fn_with_state(state.clone(), rejections::time_limit))
        .layer(from_fn(rejections::json_errors))
        .layer(from_fn_with_state(state.clone(), observe::observe))
        .with_state(state)
}
