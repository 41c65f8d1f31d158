//! `/healthz` (the process answers) and `/readyz` (the store answers a
//! cheap call and takes writes). Neither needs the token nor checks `Host`: probes come
//! from orchestrators that know neither, and the answers reveal nothing.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::{json_response, ApiError};
use crate::state::AppState;

/// `GET /healthz`: 200 while the server runs.
pub async fn healthz() -> Response {
    json_response(StatusCode::OK, &json!({"status": "ok"}))
}

/// `GET /readyz`: 200 when the store can take work ([`Coordinate::ready`](coordinate_api::Coordinate::ready):
/// on PostgreSQL, a primary answers), 503 otherwise.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let store = state.store().main();
    let answer = tokio::time::timeout(
        state.config().request_timeout,
        tokio::task::spawn_blocking(move || store.ready()),
    )
    .await;
    match answer {
        Ok(Ok(Ok(_))) => json_response(StatusCode::OK, &json!({"status": "ready"})),
        Ok(Ok(Err(e))) => {
            tracing::warn!(error = %e, "readiness check: the store failed");
            unready("the store is not answering")
        }
        Ok(Err(_)) => unready("the readiness check failed"),
        Err(_) => unready("the store did not answer in time"),
    }
}

fn unready(why: &str) -> Response {
    let mut error = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, why);
    error.retry_after = Some(1);
    error.into_response()
}
