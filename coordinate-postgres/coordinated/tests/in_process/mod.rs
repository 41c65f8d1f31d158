//! Helpers for the in-process tests: the router over the memory backend
//! on a mock clock (so times are pinned), requests through `oneshot`, and
//! handle tokens made readable.
//!
//! The server's handle tokens (`?ref=TOKEN`) start at a random base, so
//! answers are compared with each token replaced by its ordinal of first
//! appearance in the test (`ref=1`, `ref=2`, …): expectations still show
//! which URLs share a handle and which are new ones.

#![allow(dead_code)]

use std::cell::RefCell;
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

/// The server in process, and the tokens seen so far.
pub struct InProcess {
    app: axum::Router,
    tokens: RefCell<Vec<String>>,
}

impl InProcess {
    /// A server with `prefix` over an empty memory store.
    pub fn new(prefix: &str) -> Self {
        let clock = Arc::new(MockClock::new(
            Utc.with_ymd_and_hms(2026, 12, 3, 6, 0, 0).unwrap(),
        ));
        let store = Arc::new(MemoryCoordinate::with_clock(clock).with_scheduler_seed(1));
        let config = ServerConfig {
            path_prefix: prefix.to_owned(),
            ..ServerConfig::default()
        };
        let sampler = SummarySampler::new(Duration::from_secs(120), false);
        InProcess {
            app: router(AppState::new(store, None, config, sampler)),
            tokens: RefCell::new(Vec::new()),
        }
    }

    /// The router, for requests of one's own.
    pub fn app(&self) -> axum::Router {
        self.app.clone()
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

    /// Sends one request (`path` may hold ordinals, made real first).
    pub async fn send(&self, method: &str, path: &str, body: Option<&str>) -> Answer {
        let mut request = Request::builder()
            .method(method)
            .uri(self.real(path))
            .header("Host", "localhost");
        if body.is_some() {
            request = request.header("Content-Type", "application/json");
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
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"))
        };
        Answer {
            status,
            body,
            content_type,
            location,
        }
    }

    /// Runs the steps in order, checking each answer exactly.
    pub async fn check(&self, steps: &[Step<'_>]) {
        for (method, path, body, status, expected) in steps {
            let answer = self.send(method, path, *body).await;
            assert_eq!(
                (answer.status, &answer.body),
                (*status, expected),
                "{method} {path} {body:?}"
            );
            if !answer.body.is_null() {
                assert_eq!(
                    answer.content_type, "application/vnd.diffeo.coordinate.v1+json",
                    "{path}"
                );
            }
        }
    }
}

/// `path?ref=ordinal`.
pub fn r(path: &str, ordinal: usize) -> String {
    format!("{path}?ref={ordinal}")
}
