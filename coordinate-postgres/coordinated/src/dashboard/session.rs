//! Browser sessions. A browser signs in once with the server's token (or,
//! on a server without one, gets a session on its first page) and then
//! carries an `HttpOnly`, `SameSite=Strict` cookie holding a random
//! session id. Each session has its own CSRF token, which every form that
//! changes something must send back; a message for the next page
//! ("flash") waits in the session too.
//!
//! Sessions live in the server's memory: a restart signs everyone out,
//! which is the safe direction.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{header, HeaderMap, HeaderValue};
use rand::RngCore as _;

use crate::auth::constant_time_eq;

/// The cookie's name.
pub const COOKIE: &str = "coordinated_session";

/// How long a session lasts after it was made.
pub const LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);

/// Sessions kept at most; beyond it the oldest goes.
const MAX_SESSIONS: usize = 10_000;

/// How a session was granted, for the log of who did what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// Signed in with the server's token.
    Token,
    /// The server has no token: every browser gets a session.
    OpenServer,
}

/// A message for the next page the session sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    /// `true` for a refusal or failure.
    pub failed: bool,
    /// The text.
    pub text: String,
}

/// One browser's session.
#[derive(Debug, Clone)]
pub struct Session {
    id: String,
    csrf: String,
    /// A random label for the log, unrelated to the id and the token.
    label: String,
    grant: Grant,
    made: Instant,
    flash: Option<Flash>,
}

impl Session {
    /// The token its forms must carry.
    pub fn csrf(&self) -> &str {
        &self.csrf
    }

    /// Whether `offered` is this session's CSRF token.
    pub fn csrf_matches(&self, offered: &str) -> bool {
        constant_time_eq(offered.as_bytes(), self.csrf.as_bytes())
    }

    /// Who acts through this session, for the log: a short, stable label
    /// that does not reveal the id.
    pub fn who(&self) -> String {
        let how = match self.grant {
            Grant::Token => "signed in with the token",
            Grant::OpenServer => "no token configured",
        };
        format!("browser session {} ({how})", self.label)
    }

    /// The session's id (the cookie's value).
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// Every live session.
#[derive(Default)]
pub struct Sessions {
    by_id: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// A new session.
    pub fn create(&self, grant: Grant) -> Session {
        let session = Session {
            id: random_hex(),
            csrf: random_hex(),
            label: random_hex()[..8].to_owned(),
            grant,
            made: Instant::now(),
            flash: None,
        };
        let mut sessions = self.lock();
        sessions.retain(|_, s| s.made.elapsed() < LIFETIME);
        if sessions.len() >= MAX_SESSIONS {
            if let Some(oldest) = sessions
                .values()
                .min_by_key(|s| s.made)
                .map(|s| s.id.clone())
            {
                sessions.remove(&oldest);
            }
        }
        sessions.insert(session.id.clone(), session.clone());
        session
    }

    /// The session the request's cookie names, if it is live.
    pub fn find(&self, headers: &HeaderMap) -> Option<Session> {
        let id = cookie_value(headers)?;
        let sessions = self.lock();
        let session = sessions.get(id)?;
        (session.made.elapsed() < LIFETIME).then(|| session.clone())
    }

    /// Ends a session.
    pub fn remove(&self, id: &str) {
        self.lock().remove(id);
    }

    /// Leaves a message for the session's next page.
    pub fn set_flash(&self, id: &str, flash: Flash) {
        if let Some(session) = self.lock().get_mut(id) {
            session.flash = Some(flash);
        }
    }

    /// Takes the session's waiting message, if any.
    pub fn take_flash(&self, id: &str) -> Option<Flash> {
        self.lock().get_mut(id).and_then(|s| s.flash.take())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.by_id.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// `Set-Cookie` for a session, scoped to the server's paths.
pub fn set_cookie(session: &Session, prefix: &str, secure: bool) -> HeaderValue {
    let path = if prefix.is_empty() { "/" } else { prefix };
    let secure = if secure { "; Secure" } else { "" };
    let value = format!(
        "{COOKIE}={}; Path={path}; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        session.id,
        LIFETIME.as_secs()
    );
    HeaderValue::from_str(&value).expect("a session cookie is ASCII")
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_cookie(prefix: &str) -> HeaderValue {
    let path = if prefix.is_empty() { "/" } else { prefix };
    HeaderValue::from_str(&format!(
        "{COOKIE}=; Path={path}; HttpOnly; SameSite=Strict; Max-Age=0"
    ))
    .expect("a cookie is ASCII")
}

/// The session cookie's value in the request's `Cookie` headers.
fn cookie_value(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

/// 32 random bytes as hex, from rand's thread generator (a CSPRNG seeded
/// and reseeded from the operating system).
fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_cookie(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, value.parse().unwrap());
        headers
    }

    #[test]
    fn a_session_is_found_by_its_cookie_only() {
        let sessions = Sessions::default();
        let session = sessions.create(Grant::Token);
        let cookie = format!("other=1; {COOKIE}={}", session.id());
        let found = sessions.find(&with_cookie(&cookie)).expect("found");
        assert!(found.csrf_matches(session.csrf()));
        assert!(!found.csrf_matches(""));
        assert!(sessions
            .find(&with_cookie(&format!("{COOKIE}=nope")))
            .is_none());
        assert!(sessions.find(&HeaderMap::new()).is_none());
        sessions.remove(session.id());
        assert!(sessions.find(&with_cookie(&cookie)).is_none());
    }

    #[test]
    fn ids_and_tokens_are_random_and_never_logged() {
        let sessions = Sessions::default();
        let (a, b) = (
            sessions.create(Grant::OpenServer),
            sessions.create(Grant::OpenServer),
        );
        assert_ne!(a.id(), b.id());
        assert_ne!(a.csrf(), a.id());
        assert_eq!(a.id().len(), 64);
        assert!(!a.who().contains(&a.id()[..8]));
        assert!(!a.who().contains(&a.csrf()[..8]));
    }

    #[test]
    fn a_flash_is_shown_once() {
        let sessions = Sessions::default();
        let session = sessions.create(Grant::Token);
        let flash = Flash {
            failed: false,
            text: "paused".into(),
        };
        sessions.set_flash(session.id(), flash.clone());
        assert_eq!(sessions.take_flash(session.id()), Some(flash));
        assert_eq!(sessions.take_flash(session.id()), None);
    }

    #[test]
    fn the_cookie_is_http_only_and_strict() {
        let session = Sessions::default().create(Grant::Token);
        let cookie = set_cookie(&session, "/prefix", true);
        let text = cookie.to_str().unwrap();
        for part in ["HttpOnly", "SameSite=Strict", "Path=/prefix", "Secure"] {
            assert!(text.contains(part), "{text}");
        }
    }
}
