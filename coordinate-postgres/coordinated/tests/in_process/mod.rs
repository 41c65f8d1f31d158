//! Helpers for the in-process tests: the router over the memory backend
//! on a mock clock (so times are pinned), requests through `oneshot`, and
//! handle tokens made readable.
//!
//! The server's handle tokens (`?ref=TOKEN`) start at a random base, so
//! answers are compared with each token replaced by its ordinal of first
//! appearance in the test (`ref=1`, `ref=2`, …): expectations still show
//! which URLs share a handle and which are new ones.
//!
//! The server's `/metrics` counts answers by route *template*, so
//! [`InProcess::routes_answered`] tells which routes a test reached without
//! this file knowing how paths map to routes.

#![allow(dead_code)]

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use chrono::{TimeZone, Utc};
use coordinate_api::MockClock;
use coordinate_memory::MemoryCoordinate;
use coordinated::{router, AppState, ServerConfig, SummarySampler};
use serde_json::Value;
use tower::ServiceExt as _;

/// A step: method, path, body, and the status and JSON body expected.
pub type Step<'a> = (&'a str, &'a str, Option<&'a str>, u16, Value);

/// One answer, tokens made ordinals.
#[derive(Debug)]
pub struct Answer {
    /// The status.
    pub status: u16,
    /// The JSON body (`Null` when empty).
    pub body: Value,
    /// The `Content-Type`.
    pub content_type: String,
    /// The `Location`, if any.
    pub location: Option<String>,
}

/// The server in process, its store's clock, and the tokens seen so far.
pub struct InProcess {
    app: axum::Router,
    clock: Arc<MockClock>,
    prefix: String,
    tokens: RefCell<Vec<String>>,
}

impl InProcess {
    /// A server with `prefix` over an empty memory store.
    pub fn new(prefix: &str) -> Self {
        InProcess::configured(ServerConfig {
            path_prefix: prefix.to_owned(),
            ..ServerConfig::default()
        })
    }

    /// A server with `config` (a small body limit, say) over an empty
    /// memory store whose clock starts at 2026-12-03T06:00:00Z.
    pub fn configured(config: ServerConfig) -> Self {
        let clock = Arc::new(MockClock::new(
            Utc.with_ymd_and_hms(2026, 12, 3, 6, 0, 0).unwrap(),
        ));
        let store = Arc::new(MemoryCoordinate::with_clock(clock.clone()).with_scheduler_seed(1));
        let prefix = config.path_prefix.clone();
        let sampler = SummarySampler::new(Duration::from_secs(120), false);
        InProcess {
            app: router(AppState::new(store, None, config, sampler)),
            clock,
            prefix,
            tokens: RefCell::new(Vec::new()),
        }
    }

    /// The router, for requests of one's own.
    pub fn app(&self) -> axum::Router {
        self.app.clone()
    }

    /// The store's clock: moving it is how a test makes leases run out
    /// and delays pass without waiting.
    pub fn clock(&self) -> &MockClock {
        &self.clock
    }

    /// `text` with every `ref=TOKEN` made `ref=ORDINAL`.
    pub fn readable(&self, text: &str) -> String {
        self.swap(text, |tokens, token| {
            let at = match tokens.iter().position(|t| t == token) {
                Some(at) => at,
                None => {
                    tokens.push(token.to_owned());
                    tokens.len() - 1
                }
            };
            (at + 1).to_string()
        })
    }

    /// `text` with every `ref=ORDINAL` of a token seen made its real token
    /// again, for following a URL an answer held; other numbers (a token
    /// never handed out) are left as they are.
    pub fn real(&self, text: &str) -> String {
        self.swap(text, |tokens, ordinal| match ordinal.parse::<usize>() {
            Ok(at) if (1..=tokens.len()).contains(&at) => tokens[at - 1].clone(),
            _ => ordinal.to_owned(),
        })
    }

    fn swap(&self, text: &str, mut with: impl FnMut(&mut Vec<String>, &str) -> String) -> String {
        let mut tokens = self.tokens.borrow_mut();
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = rest.find("ref=") {
            let (before, after) = rest.split_at(at + 4);
            out.push_str(before);
            let digits = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            if digits > 0 {
                out.push_str(&with(&mut tokens, &after[..digits]));
            }
            rest = &after[digits..];
        }
        out.push_str(rest);
        out
    }

    /// Sends one request (`path` may hold ordinals, made real first),
    /// labelled as JSON when it has a body.
    pub async fn send(&self, method: &str, path: &str, body: Option<&str>) -> Answer {
        let json = [("Content-Type", "application/json")];
        let headers: &[(&str, &str)] = if body.is_some() { &json } else { &[] };
        self.send_with(method, path, headers, body).await
    }

    /// Sends one request with exactly these headers besides `Host` (for
    /// negotiation: `Accept`, a `Content-Type` that is not JSON).
    pub async fn send_with(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Answer {
        let (answer, text) = self.exchange(method, path, headers, body).await;
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"))
        };
        Answer { body, ..answer }
    }

    /// One request, and its answer with the body as text (tokens made
    /// ordinals); the answer's `body` is left `Null`.
    async fn exchange(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> (Answer, String) {
        let mut request = Request::builder()
            .method(method)
            .uri(self.real(path))
            .header("Host", "localhost");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let body = body.map(|b| self.real(b));
        let request = request
            .body(body.map_or_else(Body::empty, Body::from))
            .unwrap();
        let response = self.app.clone().oneshot(request).await.unwrap();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| self.readable(v.to_str().unwrap()))
        };
        let content_type = header("content-type").unwrap_or_default();
        let location = header("location");
        let status = response.status().as_u16();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        let text = self.readable(std::str::from_utf8(&bytes).expect("UTF-8"));
        let answer = Answer {
            status,
            body: Value::Null,
            content_type,
            location,
        };
        (answer, text)
    }

    /// Every (method, route template, status) this server has answered,
    /// from its `/metrics` (templates without the path prefix; requests
    /// no route matched are left out).
    pub async fn routes_answered(&self) -> BTreeSet<(String, String, u16)> {
        let metrics = format!("{}/metrics", self.prefix);
        let (answer, text) = self.exchange("GET", &metrics, &[], None).await;
        assert_eq!(answer.status, 200, "{text}");
        let label = |line: &str, key: &str| -> String {
            let start = line.find(&format!("{key}=\"")).expect(key) + key.len() + 2;
            let end = start + line[start..].find('"').expect("a closing quote");
            line[start..end].to_owned()
        };
        text.lines()
            .filter(|line| line.starts_with("coordinated_http_requests_total{"))
            .map(|line| {
                let route = label(line, "route");
                let route = route.strip_prefix(&self.prefix).unwrap_or(&route);
                let status = label(line, "status").parse().expect("a status");
                (label(line, "method"), route.to_owned(), status)
            })
            .filter(|(_, route, _)| route != "unmatched" && route != "/metrics")
            .collect()
    }

    /// Runs the steps in order, checking each answer exactly: its status
    /// and body, go's media type on every body, and on a 201 a `Location`
    /// that is the body's `url`. Every step runs even after one fails (the
    /// store moves on regardless), and the failure lists each step that
    /// differed, so one run shows every answer to look at.
    pub async fn check(&self, steps: &[Step<'_>]) {
        let mut wrong = Vec::new();
        for (index, (method, path, body, status, expected)) in steps.iter().enumerate() {
            let answer = self.send(method, path, *body).await;
            let mut differs = Vec::new();
            if (answer.status, &answer.body) != (*status, expected) {
                differs.push(format!(
                    "expected {status} {expected}\n     got {} {}",
                    answer.status, answer.body
                ));
            }
            let v1 = "application/vnd.diffeo.coordinate.v1+json";
            if !answer.body.is_null() && answer.content_type != v1 {
                differs.push(format!("content type {:?}", answer.content_type));
            }
            if answer.status == 201 && answer.location.as_deref() != answer.body["url"].as_str() {
                differs.push(format!("Location {:?}", answer.location));
            }
            if !differs.is_empty() {
                let body = body.unwrap_or("");
                wrong.push(format!(
                    "step {index}: {method} {path} {body}\n  {}",
                    differs.join("\n  ")
                ));
            }
        }
        assert!(wrong.is_empty(), "\n{}", wrong.join("\n\n"));
    }
}

/// `path?ref=ordinal`.
pub fn r(path: &str, ordinal: usize) -> String {
    format!("{path}?ref={ordinal}")
}
