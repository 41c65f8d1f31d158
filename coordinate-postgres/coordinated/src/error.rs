//! The server's errors: [`ServerError`] for starting up, [`ApiError`] for
//! an answer to one request (always a JSON body in go's error shape).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use coordinate_rest::wire::errors::retry_after_seconds;
use coordinate_rest::wire::{error_response, ErrorResponse};
use serde::Serialize;

/// Why the server could not start (or stopped).
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A flag's value is wrong; the text says which and why.
    #[error("{0}")]
    Usage(String),
    /// Opening the store failed (its text is already redacted).
    #[error("opening the store")]
    Store(#[source] coordinate_api::Error),
    /// Reading a file a flag names.
    #[error("reading {what} {path}")]
    File {
        /// Which flag's file.
        what: &'static str,
        /// The file.
        path: String,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
    /// The TLS certificate or key is unusable.
    #[error("TLS: {0}")]
    Tls(String),
    /// Binding or serving the listening socket.
    #[error("listening on {addr}")]
    Listen {
        /// The address.
        addr: String,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
}

/// One request's failure: a status and go's JSON error body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The body.
    pub body: ErrorResponse,
    /// Seconds for `Retry-After`, when trying again later may help.
    pub retry_after: Option<u32>,
}

impl ApiError {
    /// A status with a plain `error` body.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            body: ErrorResponse::other(message),
            retry_after: None,
        }
    }

    /// 400: the request itself is wrong (its text says how).
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404 for a path no route serves.
    pub fn no_route(path: &str) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, format!("no resource at {path}"))
    }

    /// 503 with `Retry-After`: too many requests wait for the store.
    pub fn busy() -> Self {
        let mut error = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "too many requests are waiting for the store; try again shortly",
        );
        error.retry_after = Some(1);
        error
    }
}

impl ApiError {
    /// The request ran past `--request-timeout`: a backend timeout, as the
    /// store's own timeouts are.
    pub fn timed_out(limit: std::time::Duration) -> Self {
        ApiError::store(&coordinate_api::Error::backend(
            coordinate_api::BackendErrorKind::Timeout,
            format!("the request took longer than {limit:?}"),
        ))
    }

    /// A store error, with go's name and status (the wire's table).
    pub fn store(error: &coordinate_api::Error) -> Self {
        let (status, body) = error_response(error);
        ApiError {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            body,
            retry_after: retry_after_seconds(error),
        }
    }

    /// 404 with go's plain `error` name.
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = json_response(self.status, &self.body);
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// The media type of every body this server sends (until negotiation
/// picks another of the JSON types the client asked for).
pub const V1_JSON: &str = coordinate_rest::wire::media::V1_JSON;

/// A JSON body with go's media type.
pub fn json_response(status: StatusCode, body: &impl Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (
            status,
            [(header::CONTENT_TYPE, HeaderValue::from_static(V1_JSON))],
            bytes,
        )
            .into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, HeaderValue::from_static(V1_JSON))],
            serde_json::json!({"error": "error", "message": format!("encoding the answer: {e}")})
                .to_string(),
        )
            .into_response(),
    }
}
