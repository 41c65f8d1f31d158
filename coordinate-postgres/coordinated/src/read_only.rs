//! `--read-only`: a server for looking only. Every API request that would
//! change the store is refused with 403 before it reaches the store (the
//! dashboard refuses its own actions the same way); reads, and the
//! `POST`s that only wait or count, still work.

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::AppState;

/// `POST` routes that change nothing (their last path segment).
const POSTS_THAT_ONLY_READ: [&str; 3] =
    ["wait_for_work", "wait_for_cancellation", "count_prunable"];

/// Middleware: refuses changes on a `--read-only` server.
pub async fn refuse_changes(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if state.config().read_only && changes_store(request.method(), request.uri().path()) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "this server runs with --read-only: it changes nothing",
        )
        .into_response();
    }
    next.run(request).await
}

fn changes_store(method: &Method, path: &str) -> bool {
    match *method {
        Method::GET | Method::HEAD | Method::OPTIONS => false,
        Method::POST => {
            let last = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
            !POSTS_THAT_ONLY_READ.contains(&last)
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_reads_pass() {
        assert!(!changes_store(&Method::GET, "/namespace/n"));
        assert!(!changes_store(&Method::POST, "/namespace/n/wait_for_work"));
        assert!(!changes_store(&Method::POST, "/namespace/n/count_prunable"));
        assert!(changes_store(&Method::POST, "/namespace/n/prune"));
        assert!(changes_store(&Method::PUT, "/namespace/n/work_spec/s/meta"));
        assert!(changes_store(&Method::DELETE, "/namespace/n"));
        assert!(changes_store(&Method::POST, "/namespace"));
    }
}
