//! The browser behind a page request: its session (made on the spot on a
//! server without a token, or for a request that came with the token
//! itself), the message its last action left, and the frame of its page.
//! Looking at a page also asks the summary sampler for frequent samples
//! for a while, so the counts stay current while someone watches.

use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use axum::response::Response;

use super::session::{set_cookie, Flash, Grant, Session};
use super::view::Chrome;
use crate::state::AppState;

/// How often counts are sampled while a page is open.
pub const WATCHED_INTERVAL: Duration = Duration::from_secs(2);

/// How long after a page view the frequent samples go on (a page polls
/// every two seconds, so this lapses soon after the last one closes).
const WATCHED_FOR: Duration = Duration::from_secs(20);

/// See the module docs.
pub struct Viewer {
    state: AppState,
    session: Session,
    new_session: bool,
    flash: Option<Flash>,
}

impl Viewer {
    /// The server state.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The frame of a page titled `title` below `crumbs`.
    pub fn chrome(&self, title: impl Into<String>, crumbs: Vec<(String, String)>) -> Chrome {
        Chrome {
            title: title.into(),
            prefix: self.state.config().path_prefix.clone(),
            csrf: self.session.csrf().to_owned(),
            flash: self.flash.clone(),
            read_only: self.state.config().read_only,
            crumbs,
        }
    }

    /// `response`, with the session's cookie if the session is new.
    pub fn respond(&self, mut response: Response) -> Response {
        if self.new_session {
            let config = self.state.config();
            response.headers_mut().insert(
                header::SET_COOKIE,
                set_cookie(&self.session, &config.path_prefix, config.secure_cookies),
            );
        }
        response
    }
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // The token layer has already admitted this request: by its
        // session, by the token itself, or because there is no token.
        let sessions = state.sessions();
        let (session, new_session) = match sessions.find(&parts.headers) {
            Some(session) => (session, false),
            None => {
                let grant = if state.config().token.is_some() {
                    Grant::Token
                } else {
                    Grant::OpenServer
                };
                (sessions.create(grant), true)
            }
        };
        let flash = sessions.take_flash(session.id());
        state
            .sampler()
            .request_interval(WATCHED_INTERVAL, WATCHED_FOR);
        Ok(Viewer {
            state: state.clone(),
            session,
            new_session,
            flash,
        })
    }
}
