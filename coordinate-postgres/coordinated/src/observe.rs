//! One middleware sees every answer: it opens the request's `tracing`
//! span (method, route template, status, duration), counts it in the
//! metrics by route template, and writes go's request log line.

use std::time::Instant;

use axum::body::HttpBody as _;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::Response;
use chrono::Utc;
use tracing::Instrument as _;

use crate::listener::ConnInfo;
use crate::logging::RequestEntry;
use crate::state::AppState;

/// The route label of requests no route matched.
pub const UNMATCHED: &str = "unmatched";

/// Middleware: span, metrics and request log for one request.
pub async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let received = Utc::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED, |m| m.as_str())
        .to_owned();
    let conn = request
        .extensions()
        .get::<ConnectInfo<ConnInfo>>()
        .map(|c| c.0);
    let uri = request.uri().path_and_query().map_or_else(
        || request.uri().path().to_owned(),
        |pq| pq.as_str().to_owned(),
    );
    let protocol = format!("{:?}", request.version());
    let request_headers = request.headers().clone();
    let span = tracing::info_span!(
        "request",
        method = %method,
        route = %route,
        status = tracing::field::Empty,
        duration_ms = tracing::field::Empty,
    );
    let response = next.run(request).instrument(span.clone()).await;
    let took = started.elapsed();
    let status = response.status().as_u16();
    span.record("status", status);
    span.record("duration_ms", took.as_secs_f64() * 1000.0);
    span.in_scope(|| tracing::debug!("answered"));
    state.metrics().record(&method, &route, status, took);
    if let Some(format) = state.config().request_log {
        let header = |headers: &HeaderMap, name| {
            headers
                .get(name)
                .and_then(|v: &axum::http::HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        let referer = header(&request_headers, header::REFERER);
        let user_agent = header(&request_headers, header::USER_AGENT);
        let number = |headers: &HeaderMap| {
            header(headers, header::CONTENT_LENGTH).and_then(|n| n.parse().ok())
        };
        format.write(&RequestEntry {
            peer: conn.map(|c| c.peer),
            local: conn.map(|c| c.local),
            received,
            method: &method,
            uri: &uri,
            protocol: &protocol,
            status,
            request_bytes: number(&request_headers),
            response_bytes: number(response.headers())
                .or_else(|| response.body().size_hint().exact()),
            referer: referer.as_deref(),
            user_agent: user_agent.as_deref(),
            latency: took,
        });
    }
    response
}
