//! Signing in and out. A browser posts the server's token once and gets
//! a session cookie (see [`super::session`]); a wrong token gets the form
//! again, and the log says a sign-in was refused (never with what was
//! offered).

use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::actions::Form;
use super::session::{clear_cookie, set_cookie, Grant};
use super::view::{self, page_with_status, Chrome};
use crate::routes::support::query_pairs;
use crate::state::AppState;

/// The sign-in page.
#[derive(Template)]
#[template(path = "sign_in.html")]
pub struct SignInPage {
    /// The frame.
    pub chrome: Chrome,
    /// Where to go once signed in.
    pub next: String,
    /// Why the last try failed.
    pub problem: Option<String>,
}

/// `GET /_dashboard/sign-in?next=…`.
pub async fn form(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let next = query_pairs(query.as_deref())
        .into_iter()
        .find(|(k, _)| k == "next")
        .map(|(_, v)| v);
    show(&state, StatusCode::OK, next.as_deref(), None)
}

/// `POST /_dashboard/sign-in` (`token`, `next`).
pub async fn sign_in(State(state): State<AppState>, body: Bytes) -> Response {
    let form = Form::parse(&body);
    let config = state.config();
    let next = form.one("next");
    let grant = match &config.token {
        None => Grant::OpenServer,
        Some(token) if token.admits_secret(form.one("token").unwrap_or("")) => Grant::Token,
        Some(_) => {
            tracing::warn!("dashboard sign-in refused: wrong token");
            return show(
                &state,
                StatusCode::UNAUTHORIZED,
                next,
                Some("That is not this server's token.".to_owned()),
            );
        }
    };
    let session = state.sessions().create(grant);
    tracing::info!(who = %session.who(), "dashboard: signed in");
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::SET_COOKIE,
        set_cookie(&session, &config.path_prefix, config.secure_cookies),
    );
    let to = super::actions::safe_back(&config.path_prefix, next);
    if let Ok(location) = HeaderValue::from_str(&to) {
        headers.insert(header::LOCATION, location);
    }
    response
}

/// `POST /_dashboard/sign-out` (`csrf`).
pub async fn sign_out(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let prefix = state.config().path_prefix.clone();
    if let Some(session) = state.sessions().find(&headers) {
        let form = Form::parse(&body);
        if !form.one("csrf").is_some_and(|c| session.csrf_matches(c)) {
            return view::message(
                StatusCode::FORBIDDEN,
                &prefix,
                "the form's CSRF token is missing or stale: reload the page and try again",
            );
        }
        tracing::info!(who = %session.who(), "dashboard: signed out");
        state.sessions().remove(session.id());
    }
    let mut response = StatusCode::SEE_OTHER.into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, clear_cookie(&prefix));
    if let Ok(location) = HeaderValue::from_str(&format!("{prefix}/_dashboard/sign-in")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// A browser without a session asking for a page: to the sign-in form,
/// coming back to the page after.
pub fn redirect_to_sign_in(prefix: &str, path_and_query: &str) -> Response {
    let next: String = form_urlencoded::byte_serialize(path_and_query.as_bytes()).collect();
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("{prefix}/_dashboard/sign-in?next={next}"))
    {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

fn show(
    state: &AppState,
    status: StatusCode,
    next: Option<&str>,
    problem: Option<String>,
) -> Response {
    let prefix = state.config().path_prefix.clone();
    page_with_status(
        status,
        &SignInPage {
            chrome: Chrome::plain("Sign in", &prefix, "", state.config().read_only),
            next: super::actions::safe_back(&prefix, next),
            problem,
        },
    )
}
