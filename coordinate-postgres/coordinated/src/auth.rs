//! `--token-file`: every route but `/healthz` and `/readyz` needs the token,
//! as `Authorization: Bearer TOKEN` or as the password of HTTP Basic (any
//! user name), because go's client can only send credentials from its
//! URL's userinfo (`http://any:TOKEN@host:5980`).
//!
//! The comparison takes the same time wherever the first difference is,
//! and a refusal says nothing about the token.

use std::fmt;
use std::path::Path;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;

use crate::error::{ApiError, ServerError};
use crate::state::AppState;

/// The API token. Its `Debug` form hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// A token from its text (surrounding whitespace dropped); `None` if
    /// nothing is left.
    pub fn new(text: &str) -> Option<Self> {
        let token = text.trim();
        (!token.is_empty()).then(|| Token(token.to_owned()))
    }

    /// Reads the token file.
    pub fn from_file(path: &Path) -> Result<Self, ServerError> {
        let text = std::fs::read_to_string(path).map_err(|source| ServerError::File {
            what: "--token-file",
            path: path.display().to_string(),
            source,
        })?;
        Token::new(&text).ok_or_else(|| {
            ServerError::Usage(format!(
                "--token-file {}: the file is empty",
                path.display()
            ))
        })
    }

    /// Whether the request's `Authorization` header carries the token.
    pub fn admits(&self, headers: &HeaderMap) -> bool {
        offered_secret(headers).is_some_and(|offered| self.admits_secret(&offered))
    }

    /// Whether `offered` is the token (the dashboard's sign-in form).
    pub fn admits_secret(&self, offered: &str) -> bool {
        constant_time_eq(offered.trim().as_bytes(), self.0.as_bytes())
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<hidden>)")
    }
}

/// The secret a request offers: a Bearer token, or a Basic password.
fn offered_secret(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = value.split_once(' ')?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.to_owned());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest)
            .ok()?;
        let pair = String::from_utf8(decoded).ok()?;
        let (_user, password) = pair.split_once(':')?;
        return Some(password.to_owned());
    }
    None
}

/// Equal bytes, in a time that depends on the lengths only.
pub fn constant_time_eq(offered: &[u8], expected: &[u8]) -> bool {
    let mut difference = u8::from(offered.len() != expected.len());
    for (index, expected_byte) in expected.iter().enumerate() {
        let offered_byte = offered.get(index).copied().unwrap_or(!expected_byte);
        difference |= offered_byte ^ expected_byte;
    }
    std::hint::black_box(difference) == 0
}

/// Middleware: refuses requests without the token (when there is one).
/// A browser asking for a dashboard page may show its session cookie
/// instead; without one it is sent to the sign-in form.
pub async fn require_token(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(token) = &state.config().token else {
        return next.run(request).await;
    };
    if token.admits(request.headers()) {
        return next.run(request).await;
    }
    if crate::dashboard::negotiate::wants_html(request.method(), request.headers()) {
        if state.sessions().find(request.headers()).is_some() {
            return next.run(request).await;
        }
        let original = request
            .extensions()
            .get::<axum::extract::OriginalUri>()
            .map_or_else(|| request.uri().clone(), |o| o.0.clone());
        let path = original
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        return crate::dashboard::sign_in::redirect_to_sign_in(&state.config().path_prefix, &path);
    }
    refusal()
}

fn refusal() -> Response {
    let mut response =
        ApiError::new(StatusCode::UNAUTHORIZED, "authentication required").into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"coordinated\""),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_auth(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, value.parse().unwrap());
        headers
    }

    #[test]
    fn bearer_and_basic_passwords_are_admitted() {
        let token = Token::new("s3cret\n").unwrap();
        assert!(token.admits(&with_auth("Bearer s3cret")));
        assert!(token.admits(&with_auth("bearer s3cret")));
        let basic = base64::engine::general_purpose::STANDARD.encode("anyone:s3cret");
        assert!(token.admits(&with_auth(&format!("Basic {basic}"))));
        let wrong = base64::engine::general_purpose::STANDARD.encode("s3cret:nope");
        assert!(!token.admits(&with_auth(&format!("Basic {wrong}"))));
        assert!(!token.admits(&with_auth("Bearer s3cre")));
        assert!(!token.admits(&with_auth("Bearer s3cret2")));
        assert!(!token.admits(&HeaderMap::new()));
    }

    #[test]
    fn the_token_never_shows_in_debug() {
        assert!(!format!("{:?}", Token::new("s3cret")).contains("s3cret"));
        assert!(Token::new(" \n").is_none());
    }

    #[test]
    fn comparison_needs_every_byte() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abd", b"abc"));
        assert!(!constant_time_eq(b"", b"abc"));
        assert!(!constant_time_eq(b"abc\0", b"abc"));
    }
}
