//! The dashboard in process, over the memory backend and over PostgreSQL
//! (the test database of `DATABASE_URL` or libpq's `PG*`): every page
//! against what the store holds, every action against what it changes,
//! and the checks in front of the actions. The browser itself is in
//! `tests/browser.rs`.
//!
//! A [`Site`] is one browser: it keeps the session cookie and the last
//! CSRF token a page gave it, and reads pages as text.

mod actions;
mod pages;
mod security;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request};
use coordinate_api::{Coordinate, Data, Value, WorkSpec};
use coordinate_memory::MemoryCoordinate;
use coordinate_rest::wire::encode_name;
use coordinated::{router, AppState, ServerConfig, SummarySampler};
use tower::ServiceExt as _;

/// The backends every test runs on.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Memory,
    Postgres,
}

pub const BOTH: [Backend; 2] = [Backend::Memory, Backend::Postgres];

/// One page or answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    pub location: Option<String>,
    pub content_type: String,
    pub csp: Option<String>,
}

/// The server in process and one browser's cookie jar.
pub struct Site {
    app: axum::Router,
    pub store: Arc<dyn Coordinate>,
    sampler: Arc<SummarySampler>,
    cookie: Option<String>,
    csrf: Option<String>,
    /// A namespace of this test's own (the PostgreSQL database is shared).
    pub ns: String,
    pub backend: Backend,
}

static SITES: AtomicUsize = AtomicUsize::new(0);

impl Site {
    /// A server with `config` over `backend`, with an empty namespace.
    pub fn new(backend: Backend, config: ServerConfig) -> Site {
        let store: Arc<dyn Coordinate> = match backend {
            Backend::Memory => Arc::new(MemoryCoordinate::new()),
            Backend::Postgres => Arc::new(
                coordinate_postgres::test_support::builder(
                    &coordinate_postgres::test_support::database_url(),
                )
                .build()
                .expect("the test database (DATABASE_URL or PG*) must be reachable"),
            ),
        };
        let sampler = SummarySampler::new(Duration::from_secs(120), false);
        let ns = format!(
            "dash-{}-{}-{}",
            std::process::id(),
            SITES.fetch_add(1, Ordering::Relaxed),
            chrono::Utc::now().timestamp_micros()
        );
        store.namespace(&ns).expect("a namespace");
        Site {
            app: router(AppState::new(store.clone(), None, config, sampler.clone())),
            store,
            sampler,
            cookie: None,
            csrf: None,
            ns,
            backend,
        }
    }

    /// A server without a token or other settings.
    pub fn plain(backend: Backend) -> Site {
        Site::new(backend, ServerConfig::default())
    }

    /// A spec named `name` in the site's namespace.
    pub fn spec(&self, name: &str) -> Arc<dyn WorkSpec> {
        let mut definition = Data::new();
        definition.insert("name".into(), Value::Text(name.into()));
        self.store
            .namespace(&self.ns)
            .unwrap()
            .set_work_spec(definition)
            .unwrap()
    }

    /// Available units named `names` in `spec`.
    pub fn add_units(&self, spec: &dyn WorkSpec, names: &[&str]) {
        for name in names {
            spec.add_work_unit(name, Data::new(), coordinate_api::WorkUnitMeta::default())
                .unwrap();
        }
    }

    /// Takes a summary now, as the sampler would.
    pub async fn sample(&self) {
        let (sampler, store) = (self.sampler.clone(), self.store.clone());
        tokio::task::spawn_blocking(move || sampler.sample_now(&*store))
            .await
            .unwrap();
    }

    /// The path of the site's namespace, with `rest` after it.
    pub fn ns_path(&self, rest: &str) -> String {
        format!("/namespace/{}{rest}", encode_name(&self.ns))
    }

    /// The path of a spec's page.
    pub fn spec_path(&self, spec: &str) -> String {
        self.ns_path(&format!("/work_spec/{}", encode_name(spec)))
    }

    /// The path of a unit's page.
    pub fn unit_path(&self, spec: &str, unit: &str) -> String {
        format!("{}/work_unit/{}", self.spec_path(spec), encode_name(unit))
    }

    /// `GET path` as a browser asks for it; keeps the cookie and CSRF token.
    pub async fn page(&mut self, path: &str) -> Answer {
        let request = self.request("GET", path, Some("text/html,*/*;q=0.8"), None, None);
        self.send(request).await
    }

    /// `GET path` with `accept` (none if `None`).
    pub async fn get(&mut self, path: &str, accept: Option<&str>) -> Answer {
        let request = self.request("GET", path, accept, None, None);
        self.send(request).await
    }

    /// Posts an action form with the session's CSRF token (unless `pairs`
    /// has its own `csrf`).
    pub async fn act(&mut self, pairs: &[(&str, &str)]) -> Answer {
        let mut form = form_urlencoded::Serializer::new(String::new());
        if !pairs.iter().any(|(k, _)| *k == "csrf") {
            form.append_pair("csrf", self.csrf.as_deref().unwrap_or(""));
        }
        for (key, value) in pairs {
            form.append_pair(key, value);
        }
        self.post_form("/_dashboard/act", form.finish()).await
    }

    /// Posts `body` as a form to `path`.
    pub async fn post_form(&mut self, path: &str, body: String) -> Answer {
        let request = self.request(
            "POST",
            path,
            Some("text/html"),
            Some("application/x-www-form-urlencoded"),
            Some(body),
        );
        self.send(request).await
    }

    /// Forgets the cookie (another browser).
    pub fn forget_cookie(&mut self) {
        self.cookie = None;
    }

    /// A request with the cookie, if any.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        accept: Option<&str>,
        content_type: Option<&str>,
        body: Option<String>,
    ) -> Request<Body> {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, "localhost");
        if let Some(accept) = accept {
            request = request.header(header::ACCEPT, accept);
        }
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        if let Some(cookie) = &self.cookie {
            request = request.header(header::COOKIE, cookie);
        }
        request
            .body(body.map_or_else(Body::empty, Body::from))
            .unwrap()
    }

    /// Sends a request of one's own.
    pub async fn send(&mut self, request: Request<Body>) -> Answer {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let header_text = |name| {
            response
                .headers()
                .get(name)
                .map(|v: &header::HeaderValue| v.to_str().unwrap().to_owned())
        };
        if let Some(set) = header_text(header::SET_COOKIE) {
            let pair = set.split(';').next().unwrap().to_owned();
            self.cookie = (!pair.ends_with('=')).then_some(pair);
        }
        let status = response.status().as_u16();
        let location = header_text(header::LOCATION);
        let content_type = header_text(header::CONTENT_TYPE).unwrap_or_default();
        let csp = header_text(header::CONTENT_SECURITY_POLICY);
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let body = String::from_utf8(bytes.to_vec()).unwrap();
        if let Some(csrf) = hidden_value(&body, "csrf") {
            self.csrf = Some(csrf);
        }
        Answer {
            status,
            body,
            location,
            content_type,
            csp,
        }
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        // The PostgreSQL test database is shared: leave it as found.
        if let Ok(namespace) = self.store.namespace(&self.ns) {
            let _ = namespace.destroy();
        }
    }
}

/// The names of every unit of `spec`, sorted.
pub fn unit_names(spec: &dyn WorkSpec) -> Vec<String> {
    let mut names: Vec<String> = spec
        .work_units(&Default::default())
        .unwrap()
        .iter()
        .map(|u| u.name().to_owned())
        .collect();
    names.sort();
    names
}

/// The value of the first hidden input named `name` in a page.
pub fn hidden_value(body: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker)? + marker.len();
    let end = body[start..].find('"')? + start;
    Some(body[start..end].to_owned())
}

/// The count a page shows for `status` (the first such cell).
pub fn shown_count(body: &str, status: &str) -> Option<usize> {
    let marker = format!("data-status=\"{status}\">");
    let start = body.find(&marker)? + marker.len();
    let end = body[start..].find('<')? + start;
    body[start..end].replace(',', "").parse().ok()
}
