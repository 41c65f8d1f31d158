//! Connection strings, and opening single connections outside the pool
//! (for migrations and the listener).
//!
//! Every accepted form is turned into one string libpq understands, so libpq
//! itself fills whatever is missing from `PGHOST`, `PGPORT`, `PGDATABASE`,
//! `PGUSER`, `PGPASSWORD`, `PGSSLMODE` and its other environment variables.
//! The password, in every spelling found, is remembered only so it can be
//! scrubbed out of any text we show.

use std::time::Duration;

use coordinate_api::Result;
use diesel::pg::PgConnection;
use diesel::Connection;

use crate::db::connect_error::{tidy, ConnectError, ConnectErrorKind};
use crate::db::error::connect;

/// How long to wait for a connection, unless the builder says otherwise.
pub const DEFAULT_CONNECTION_TIMEOUT: Duration = Duration::from_secs(30);

/// Name the server shows for our sessions unless the user picked one.
const APPLICATION_NAME: &str = "coordinate";

/// A connection string made ready for libpq, with its secrets noted.
#[derive(Clone)]
pub(crate) struct ConnInfo {
    libpq: String,
    secrets: Vec<String>,
}

impl ConnInfo {
    /// Normalises `conn` (see the crate docs for the forms) and adds our
    /// defaults: a connect timeout of `timeout` (unless the string or
    /// `PGCONNECT_TIMEOUT` sets one) and a fallback application name.
    pub(crate) fn parse(conn: &str, timeout: Duration) -> Result<ConnInfo, ConnectError> {
        let mut secrets = Vec::new();
        if let Ok(password) = std::env::var("PGPASSWORD") {
            secrets.push(password);
        }
        let invalid = |secrets: &[String], why: String| {
            let info = ConnInfo {
                libpq: String::new(),
                secrets: secrets.to_vec(),
            };
            ConnectError::new(
                ConnectErrorKind::InvalidConnectionString,
                tidy(&info.redact(&why)),
            )
        };

        let url = if conn.starts_with("postgres://") || conn.starts_with("postgresql://") {
            Some(conn.to_owned())
        } else if conn.starts_with("//") {
            Some(format!("postgres:{conn}"))
        } else {
            None
        };
        let (mut libpq, keys) = match url {
            Some(url) => {
                let keys = scan_url(&url, &mut secrets);
                if has_unencoded_at(&url) {
                    // libpq would read the rest of the password as the host
                    // name and quote it in its error.
                    return Err(invalid(
                        &secrets,
                        "the user name or password holds an unencoded '@'; write it as %40".into(),
                    ));
                }
                (url, keys)
            }
            None => {
                let pairs = conn
                    .strip_prefix("postgresql:")
                    .or_else(|| conn.strip_prefix("postgres:"))
                    .unwrap_or(conn);
                if let Some((scheme, _)) = pairs.split_once("://") {
                    if !scheme.contains(['=', ' ']) {
                        return Err(invalid(
                            &secrets,
                            format!(
                                "unsupported scheme {scheme:?}; use postgres:// or postgresql://"
                            ),
                        ));
                    }
                }
                let keys = scan_pairs(pairs, &mut secrets);
                (pairs.to_owned(), keys)
            }
        };
        if conn.contains('\0') {
            return Err(invalid(&secrets, "it contains a NUL character".into()));
        }

        let mut extra = Vec::new();
        if !keys.iter().any(|k| k == "connect_timeout")
            && std::env::var_os("PGCONNECT_TIMEOUT").is_none()
        {
            // libpq counts whole seconds and treats 1 as 2.
            let seconds = timeout.as_secs_f64().ceil().max(2.0) as u64;
            extra.push(format!("connect_timeout={seconds}"));
        }
        if !keys
            .iter()
            .any(|k| k == "application_name" || k == "fallback_application_name")
        {
            extra.push(format!("fallback_application_name={APPLICATION_NAME}"));
        }
        if !extra.is_empty() {
            if libpq.starts_with("postgres") && libpq.contains("://") {
                let separator = if libpq.contains('?') { '&' } else { '?' };
                libpq.push(separator);
                libpq.push_str(&extra.join("&"));
            } else {
                if !libpq.trim().is_empty() {
                    libpq.push(' ');
                }
                libpq.push_str(&extra.join(" "));
            }
        }

        secrets.retain(|s| !s.is_empty());
        // Longest first, so a password containing another secret is
        // scrubbed whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Ok(ConnInfo { libpq, secrets })
    }

    /// The string handed to libpq.
    pub(crate) fn libpq(&self) -> &str {
        &self.libpq
    }

    /// `text` with every known secret replaced by `***`.
    pub(crate) fn redact(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for secret in &self.secrets {
            text = text.replace(secret.as_str(), "***");
        }
        text
    }

    /// A connection failure libpq (or the pool) described in `message`,
    /// classified after every known secret is scrubbed out of it.
    pub(crate) fn connect_error(&self, message: &str) -> ConnectError {
        ConnectError::from_redacted(&self.redact(message))
    }

    /// The connection string with its password hidden, for `Debug`.
    pub(crate) fn display(&self) -> String {
        self.redact(&self.libpq)
    }
}

/// Whether a URL's authority holds more than one '@': a password with an
/// unencoded '@' in it.
fn has_unencoded_at(url: &str) -> bool {
    let rest = url.split_once("://").map_or("", |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or("");
    authority.matches('@').count() > 1
}

/// Notes the password of a `postgres://` URL (user info or `password`
/// query parameter) and returns the query parameter names.
fn scan_url(url: &str, secrets: &mut Vec<String>) -> Vec<String> {
    let rest = url.split_once("://").map_or("", |(_, rest)| rest);
    // libpq takes the user info to end at the first '@' before any '/'.
    let authority = rest.split('/').next().unwrap_or("");
    if let Some((userinfo, _)) = authority.split_once('@') {
        if let Some((_, password)) = userinfo.split_once(':') {
            secrets.push(password.to_owned());
            secrets.push(percent_decode(password));
        }
    }
    let mut keys = Vec::new();
    if let Some((_, query)) = rest.split_once('?') {
        for pair in query.split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let key = percent_decode(key);
            if key == "password" {
                secrets.push(value.to_owned());
                secrets.push(percent_decode(value));
            }
            keys.push(key);
        }
    }
    keys
}

/// Notes the `password` of a libpq `key=value` string and returns the keys.
/// Follows libpq's quoting: values may be single-quoted, and a backslash
/// escapes the next character. On malformed input everything after a
/// `password` key counts as secret; libpq reports the syntax error. So does
/// a word without `=` right after an unquoted password, as in
/// `password=two words`: libpq would quote that word, a piece of the
/// password, in its error.
fn scan_pairs(pairs: &str, secrets: &mut Vec<String>) -> Vec<String> {
    let mut keys = Vec::new();
    let mut chars = pairs.char_indices().peekable();
    let mut after_bare_password = false;
    loop {
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let Some(&(key_start, _)) = chars.peek() else {
            break;
        };
        let mut key_end = pairs.len();
        while let Some(&(i, c)) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                key_end = i;
                break;
            }
            chars.next();
        }
        let key = &pairs[key_start..key_end];
        keys.push(key.to_owned());
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        if chars.next_if(|(_, c)| *c == '=').is_none() {
            if key == "password" {
                secrets.push(pairs[key_end..].trim().to_owned());
            }
            if after_bare_password {
                secrets.push(pairs[key_start..].trim().to_owned());
                secrets.push(key.to_owned());
            }
            break;
        }
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let value_start = chars.peek().map_or(pairs.len(), |(i, _)| *i);
        let quoted = chars.next_if(|(_, c)| *c == '\'').is_some();
        let mut value = String::new();
        let mut closed = !quoted;
        while let Some((_, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, escaped)) = chars.next() {
                        value.push(escaped);
                    }
                }
                '\'' if quoted => {
                    closed = true;
                    break;
                }
                c if !quoted && c.is_whitespace() => break,
                c => value.push(c),
            }
        }
        after_bare_password = key == "password" && !quoted;
        if key == "password" {
            let value_end = chars.peek().map_or(pairs.len(), |(i, _)| *i);
            secrets.push(value);
            secrets.push(pairs[value_start..value_end].trim().to_owned());
        }
        if !closed {
            break;
        }
    }
    keys
}

/// Decodes `%XX` escapes; anything malformed is kept as written.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Opens one connection outside the pool, with a precise error.
pub(crate) fn establish(info: &ConnInfo) -> Result<PgConnection> {
    PgConnection::establish(info.libpq()).map_err(|error| {
        let error = match error {
            diesel::ConnectionError::BadConnection(message) => info.connect_error(&message),
            diesel::ConnectionError::InvalidCString(_)
            | diesel::ConnectionError::InvalidConnectionUrl(_) => ConnectError::new(
                ConnectErrorKind::InvalidConnectionString,
                info.redact(&error.to_string()),
            ),
            other => ConnectError::new(ConnectErrorKind::Other, info.redact(&other.to_string())),
        };
        // The caller gets the error too; this puts it beside the rest of
        // the log, at a level that does not say it twice by default.
        tracing::debug!(connection = %info.display(), %error, "could not connect");
        connect(error)
    })
}

/// Parses `conn` and opens one connection, for the migration functions.
pub(crate) fn connect_once(conn: &str) -> Result<PgConnection> {
    let info = ConnInfo::parse(conn, DEFAULT_CONNECTION_TIMEOUT).map_err(connect)?;
    establish(&info)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(conn: &str) -> ConnInfo {
        ConnInfo::parse(conn, Duration::from_secs(5)).unwrap()
    }

    #[test]
    fn forms_are_normalised() {
        let url = parse("postgres://u:p@h/db");
        assert!(url
            .libpq()
            .starts_with("postgres://u:p@h/db?connect_timeout="));
        let bare = parse("//u:p@h/db?sslmode=disable");
        assert!(bare
            .libpq()
            .starts_with("postgres://u:p@h/db?sslmode=disable&connect_timeout="));
        let pairs = parse("postgres:host=h dbname=db");
        assert!(pairs
            .libpq()
            .starts_with("host=h dbname=db connect_timeout="));
        let empty = parse("");
        assert!(empty.libpq().starts_with("connect_timeout="));
        let own = parse("postgres:connect_timeout=9 application_name=x");
        assert_eq!(own.libpq(), "connect_timeout=9 application_name=x");
    }

    #[test]
    fn passwords_are_found_in_every_form() {
        for (conn, password) in [
            ("postgres://user:s%40cret@host/db", "s@cret"),
            ("postgresql://user@host/db?password=s3cret&x=1", "s3cret"),
            ("//user:hunter2@host/db", "hunter2"),
            ("postgres:host=h password=pa55 user=u", "pa55"),
            ("postgres:password = 'a \\'secret\\'' host=h", "a 'secret'"),
            ("postgres:host=h password='unterminated", "unterminated"),
            ("postgres:password=two words host=h", "words"),
        ] {
            let info = parse(conn);
            let shown = info.display();
            assert!(!shown.contains(password), "{conn} -> {shown}");
            assert!(
                !info.redact(&format!("x {password} y")).contains(password),
                "{conn}"
            );
        }
    }

    #[test]
    fn bad_strings_are_rejected_without_the_password() {
        let err = match ConnInfo::parse("mysql://u:topsecret@h/db", Duration::from_secs(1)) {
            Err(err) => err,
            Ok(_) => panic!("accepted a mysql URL"),
        };
        assert_eq!(err.kind(), ConnectErrorKind::InvalidConnectionString);
        assert!(err.to_string().contains("mysql"));
        assert!(ConnInfo::parse("postgres:host=a\0b", Duration::from_secs(1)).is_err());
        let err = match ConnInfo::parse("postgres://u:top@secret@h/db", Duration::from_secs(1)) {
            Err(err) => err,
            Ok(_) => panic!("accepted a password with a bare '@'"),
        };
        assert_eq!(err.kind(), ConnectErrorKind::InvalidConnectionString);
        assert!(!err.to_string().contains("secret"), "{err}");
        assert!(ConnInfo::parse("postgres://u:top%40secret@h/db", Duration::from_secs(1)).is_ok());
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b%zz%4"), "a b%zz%4");
    }
}
