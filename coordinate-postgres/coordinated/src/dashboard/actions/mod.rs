//! The dashboard's actions: `POST /_dashboard/act` with a form naming the
//! action and its subjects. Each goes through the public API (the calls
//! the `coordinate` command makes), leaves a message for the next page
//! saying what changed, and writes one log line naming who did what.
//!
//! Before anything is read from the store a request must carry a live
//! session cookie (else 401), the session's CSRF token (else 403), and
//! the server must not be `--read-only` (else 403). A store refusal comes
//! back as the message on the page the form was on.

mod spec;
mod units;
mod workers;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::session::{Flash, Session};
use super::view;
use crate::error::ApiError;
use crate::routes::support::query_pairs;
use crate::state::AppState;
use crate::store::StoreCall;

pub use units::ConfirmPage;

/// A submitted form.
pub struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    /// The form in a request body (`application/x-www-form-urlencoded`).
    pub fn parse(body: &[u8]) -> Form {
        Form {
            pairs: query_pairs(Some(&String::from_utf8_lossy(body))),
        }
    }

    /// The first value of `key`.
    pub fn one(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `key`, or a refusal naming it.
    pub fn required(&self, key: &str) -> Result<&str, Refusal> {
        self.one(key)
            .ok_or_else(|| Refusal::Bad(format!("the form has no {key:?}")))
    }

    /// Every value of `key`, in order.
    pub fn all(&self, key: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Every pair (to carry a form over a confirmation).
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }
}

/// What an action did.
pub enum Outcome {
    /// It changed the store; the text says what, for the page and the log.
    Done(String),
    /// It needs a confirmation first: the page asking for it.
    Confirm(Box<ConfirmPage>),
    /// Done, and the page it was on is gone: go here instead.
    DoneElsewhere(String, String),
}

/// Why an action did nothing.
pub enum Refusal {
    /// The form is malformed (400 page).
    Bad(String),
    /// The action does not apply (a message on the page it came from).
    NotApplicable(String),
    /// The store refused.
    Store(ApiError),
}

impl From<ApiError> for Refusal {
    fn from(error: ApiError) -> Self {
        Refusal::Store(error)
    }
}

/// `POST /_dashboard/act`.
pub async fn act(
    State(state): State<AppState>,
    call: StoreCall,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let prefix = state.config().path_prefix.clone();
    let Some(session) = state.sessions().find(&headers) else {
        return view::message(
            StatusCode::UNAUTHORIZED,
            &prefix,
            "sign in first: this action needs a signed-in browser session",
        );
    };
    let form = Form::parse(&body);
    if !form
        .one("csrf")
        .is_some_and(|offered| session.csrf_matches(offered))
    {
        tracing::warn!(who = %session.who(), "dashboard action refused: CSRF token missing or stale");
        return view::message(
            StatusCode::FORBIDDEN,
            &prefix,
            "the form's CSRF token is missing or stale: reload the page and try again",
        );
    }
    if state.config().read_only {
        return view::message(
            StatusCode::FORBIDDEN,
            &prefix,
            "this server runs with --read-only: the dashboard shows the store and changes nothing",
        );
    }
    let back = safe_back(&prefix, form.one("back"));
    let action = form.one("action").unwrap_or("").to_owned();
    let outcome = match action.as_str() {
        "pause" => spec::pause(call, &form, true).await,
        "resume" => spec::pause(call, &form, false).await,
        "set-meta" => spec::set_meta(call, &form).await,
        "retry-failed" => units::retry_failed(call, &form).await,
        "retry-units" => units::retry_units(call, &form).await,
        "prioritize-units" => units::prioritize(call, &form).await,
        "delete-units" | "delete-status" => {
            units::delete(call, &form, session.csrf(), &prefix, &back).await
        }
        "cancel" => units::cancel(call, &form).await,
        "release" => workers::release(call, &form).await,
        other => Err(Refusal::Bad(format!("{other:?} is not a dashboard action"))),
    };
    finish(&state, &session, &action, outcome, back)
}

/// Logs the outcome and answers it.
fn finish(
    state: &AppState,
    session: &Session,
    action: &str,
    outcome: Result<Outcome, Refusal>,
    back: String,
) -> Response {
    let prefix = &state.config().path_prefix;
    let (flash, to) = match outcome {
        Ok(Outcome::Confirm(page)) => return view::page(&*page),
        Ok(Outcome::Done(what)) => {
            tracing::info!(who = %session.who(), action, "dashboard: {what}");
            (
                Flash {
                    failed: false,
                    text: what,
                },
                back,
            )
        }
        Ok(Outcome::DoneElsewhere(what, to)) => {
            tracing::info!(who = %session.who(), action, "dashboard: {what}");
            (
                Flash {
                    failed: false,
                    text: what,
                },
                safe_back(prefix, Some(&to)),
            )
        }
        Err(Refusal::Bad(why)) => return view::message(StatusCode::BAD_REQUEST, prefix, why),
        Err(Refusal::NotApplicable(why)) => {
            tracing::info!(who = %session.who(), action, "dashboard action refused: {why}");
            (
                Flash {
                    failed: true,
                    text: why,
                },
                back,
            )
        }
        Err(Refusal::Store(error)) => {
            let why = format!(
                "the store refused: {}",
                if error.body.message.is_empty() {
                    &error.body.error
                } else {
                    &error.body.message
                }
            );
            tracing::info!(who = %session.who(), action, "dashboard action refused: {why}");
            (
                Flash {
                    failed: true,
                    text: why,
                },
                back,
            )
        }
    };
    state.sessions().set_flash(session.id(), flash);
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(location) = HeaderValue::from_str(&to) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// Where to go after an action: the form's page if it is one of this
/// server's paths, else the overview (never another site).
pub fn safe_back(prefix: &str, back: Option<&str>) -> String {
    match back {
        Some(back)
            if (back.starts_with(&format!("{prefix}/")) || back == prefix)
                && !back.starts_with("//")
                && !back.contains(['\\', '\r', '\n']) =>
        {
            back.to_owned()
        }
        _ => super::view::home(prefix),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn going_back_stays_on_this_server() {
        assert_eq!(safe_back("", Some("/namespace/n")), "/namespace/n");
        assert_eq!(safe_back("", Some("//evil.example/")), "/");
        assert_eq!(safe_back("", Some("https://evil.example/")), "/");
        assert_eq!(safe_back("/p", Some("/namespace/n")), "/p");
        assert_eq!(safe_back("/p", Some("/p")), "/p");
        assert_eq!(safe_back("/p", Some("/p/namespace/n")), "/p/namespace/n");
        assert_eq!(safe_back("", None), "/");
    }

    #[test]
    fn forms_keep_repeated_keys() {
        let form = Form::parse(b"unit=a&unit=b%20c&action=retry-units");
        assert_eq!(form.all("unit"), vec!["a", "b c"]);
        assert_eq!(form.one("action"), Some("retry-units"));
        assert!(form.required("spec").is_err());
    }
}
