//! Every refusal of the API is a JSON body naming what was wrong: unknown routes
//! (404), wrong methods (405), and anything axum or hyper answer in plain
//! text (a body over the limit, 413) are rewritten here; requests that run
//! too long are cut off with a backend timeout error.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::AppState;

/// Longest plain-text body carried over into a JSON error message.
const MAX_MESSAGE: usize = 1024;

/// Fallback: no route has this path.
pub async fn no_route(request: Request) -> Response {
    ApiError::no_route(request.uri().path()).into_response()
}

/// Fallback: the route exists, the method does not.
pub async fn wrong_method(request: Request) -> Response {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!(
            "method {} not allowed on {}",
            request.method(),
            request.uri().path()
        ),
    )
    .into_response()
}

/// Middleware: a 4xx or 5xx answer that is not JSON becomes one.
pub async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error())
        || is_json(&response)
        || is_html(&response)
    {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = match axum::body::to_bytes(body, MAX_MESSAGE * 4).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).trim().to_owned(),
        Err(_) => String::new(),
    };
    let mut message: String = text.chars().take(MAX_MESSAGE).collect();
    if message.is_empty() {
        message = status
            .canonical_reason()
            .unwrap_or("request failed")
            .to_lowercase();
    }
    let mut rewritten = ApiError::new(status, message).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            rewritten.headers_mut().append(name, value.clone());
        }
    }
    rewritten
}

fn content_type(response: &Response<Body>) -> &str {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn is_json(response: &Response<Body>) -> bool {
    content_type(response).contains("json")
}

/// The dashboard's refusals are pages (it asked for HTML).
fn is_html(response: &Response<Body>) -> bool {
    content_type(response).starts_with("text/html")
}

/// Middleware: a request taking longer than `--request-timeout` is
/// answered with a backend timeout error (the store call itself may still
/// finish on its thread: the client must not assume it did not happen).
pub async fn time_limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let limit = state.config().request_timeout;
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::timed_out(limit).into_response(),
    }
}
