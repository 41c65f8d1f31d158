//! The dashboard: HTML pages on the REST resources' own URLs, for
//! browsers, and the forms that act on the store.
//!
//! | URL | page |
//! | --- | --- |
//! | `/` | overview: namespaces, specs with counts and last hour, live workers |
//! | `/namespace/{ns}` | the same for one namespace |
//! | `/namespace/{ns}/work_spec/{spec}` | settings, counts, units (filtered, keyset-paged) |
//! | `…/work_unit/{unit}` | status, priority, data, attempts |
//! | `/namespace/{ns}/worker` | the worker tree |
//! | `/_dashboard/sign-in`, `/_dashboard/sign-out` | sessions |
//! | `/_dashboard/act` (POST) | every action ([`actions`]) |
//! | `/_dashboard/assets/…` | the stylesheet and script, embedded in the binary |
//!
//! Only requests that ask for `text/html` explicitly get a page
//! ([`negotiate`]); the rest keep getting go's JSON. Counts come from the
//! server's one summary sampler ([`counts`]). Pages work without
//! JavaScript; the script refreshes the parts marked `data-live` every two
//! seconds and is the only script a page may run (its
//! `Content-Security-Policy` forbids inline script).

pub mod actions;
pub mod assets;
pub mod counts;
pub mod negotiate;
pub mod overview;
pub mod session;
pub mod sign_in;
pub mod spec_page;
pub mod unit_page;
pub mod view;
pub mod viewer;
pub mod workers_page;

use axum::extract::{MatchedPath, Request, State};
use axum::handler::Handler as _;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

/// The dashboard's own routes, under `/_dashboard`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/_dashboard/sign-in",
            get(sign_in::form).post(sign_in::sign_in),
        )
        .route("/_dashboard/sign-out", post(sign_in::sign_out))
        .route("/_dashboard/act", post(actions::act))
        .route("/_dashboard/assets/{file}", get(assets::asset))
}

/// Middleware on the API's routes: a browser asking for a page of a route
/// that has one gets the page; everything else goes on to the API. (It
/// runs once the router has matched, so the page's handler reads the same
/// path parameters the API's would.)
pub async fn divert_browsers(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if !negotiate::wants_html(request.method(), request.headers()) {
        return next.run(request).await;
    }
    let matched = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_default();
    let prefix = state.config().path_prefix.clone();
    let route = matched.strip_prefix(prefix.as_str()).unwrap_or(&matched);
    match route {
        "/" | "" => overview::overview.call(request, state).await,
        "/namespace" => Redirect::to(&view::home(&prefix)).into_response(),
        "/namespace/{namespace}" => overview::namespace.call(request, state).await,
        "/namespace/{namespace}/work_spec/{spec}" => {
            spec_page::spec_page.call(request, state).await
        }
        "/namespace/{namespace}/work_spec/{spec}/work_unit/{unit}" => {
            unit_page::unit_page.call(request, state).await
        }
        "/namespace/{namespace}/worker" => workers_page::workers_page.call(request, state).await,
        _ => next.run(request).await,
    }
}
