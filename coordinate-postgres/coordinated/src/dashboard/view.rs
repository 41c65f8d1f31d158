//! What every page shares: the frame around it ([`Chrome`]), how names,
//! times and counts are shown, and how a page becomes a response (with
//! the security headers every page carries).

use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

use crate::error::ApiError;

/// No inline script, no foreign origin, no framing: the dashboard's own
/// files only.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

/// The frame of every page: title, navigation, the message left by the
/// last action, the CSRF token for its forms.
pub struct Chrome {
    /// The page's title.
    pub title: String,
    /// `--path-prefix` (`""` or `/prefix`).
    pub prefix: String,
    /// The session's CSRF token (empty on pages shown before sign-in).
    pub csrf: String,
    /// The last action's message.
    pub flash: Option<super::session::Flash>,
    /// Whether actions are refused (`--read-only`).
    pub read_only: bool,
    /// Links above the title: (label, href), outermost first.
    pub crumbs: Vec<(String, String)>,
}

/// The overview's path: `/`, or the prefix itself under `--path-prefix`.
pub fn home(prefix: &str) -> String {
    if prefix.is_empty() {
        "/".to_owned()
    } else {
        prefix.to_owned()
    }
}

impl Chrome {
    /// The frame of a page outside a session's pages (sign-in, refusals,
    /// a confirmation): no crumbs, no message waiting.
    pub fn plain(title: impl Into<String>, prefix: &str, csrf: &str, read_only: bool) -> Chrome {
        Chrome {
            title: title.into(),
            prefix: prefix.to_owned(),
            csrf: csrf.to_owned(),
            flash: None,
            read_only,
            crumbs: Vec::new(),
        }
    }
}

/// A name as the page shows it: control, format and bidirectional
/// characters, which would hide or reorder text, written as `\u{…}`;
/// the empty name as `""`. (The template then escapes it for HTML.)
pub fn shown(name: &str) -> String {
    if name.is_empty() {
        return "\"\"".to_owned();
    }
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_control() || is_invisible(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

fn is_invisible(c: char) -> bool {
    matches!(u32::from(c),
        0x00ad | 0x061c | 0x180e | 0x200b..=0x200f | 0x202a..=0x202e
        | 0x2060..=0x2069 | 0xfeff | 0xfff9..=0xfffb)
}

/// A time to the second, in UTC.
pub fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%SZ").to_string()
}

/// How far `t` is from `now`: "12s ago", "in 3m".
pub fn relative(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (t - now).num_seconds();
    let magnitude = seconds.unsigned_abs();
    let amount = match magnitude {
        0..=119 => format!("{magnitude}s"),
        120..=7199 => format!("{}m", magnitude / 60),
        7200..=172_799 => format!("{}h", magnitude / 3600),
        _ => format!("{}d", magnitude / 86_400),
    };
    if seconds <= 0 {
        format!("{amount} ago")
    } else {
        format!("in {amount}")
    }
}

/// A count with thousands separated: `1,000,000`.
pub fn count(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// A rendered page as a 200 response.
pub fn page(template: &impl Template) -> Response {
    page_with_status(StatusCode::OK, template)
}

/// A rendered page with its status and the dashboard's headers.
pub fn page_with_status(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => {
            let mut response = (status, html).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CONTENT_SECURITY_POLICY),
            );
            headers.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            headers.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("same-origin"),
            );
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(header::VARY, HeaderValue::from_static("Accept, Cookie"));
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "rendering a dashboard page failed");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "rendering the page failed",
            )
            .into_response()
        }
    }
}

/// A page that says one thing: a refusal or a failure.
#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    /// The frame.
    pub chrome: Chrome,
    /// What happened.
    pub message: String,
    /// Where to go from here.
    pub back: String,
}

/// A refusal or failure as an HTML page: the status, the message the
/// store or the check gave, a link back.
pub fn message(status: StatusCode, prefix: &str, message: impl Into<String>) -> Response {
    let title = status.canonical_reason().unwrap_or("Refused").to_owned();
    page_with_status(
        status,
        &MessagePage {
            chrome: Chrome::plain(title, prefix, "", false),
            message: message.into(),
            back: home(prefix),
        },
    )
}

/// A store error as a page (its message, never a trace).
pub fn store_error(prefix: &str, error: ApiError) -> Response {
    let text = if error.body.message.is_empty() {
        error.body.error.clone()
    } else {
        error.body.message.clone()
    };
    message(error.status, prefix, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_characters_are_shown() {
        assert_eq!(shown("plain name"), "plain name");
        assert_eq!(shown(""), "\"\"");
        assert_eq!(shown("a\u{0}b\n"), "a\\u{0}b\\u{a}");
        assert_eq!(shown("evil\u{202e}txt"), "evil\\u{202e}txt");
        assert_eq!(shown("zero\u{200b}width"), "zero\\u{200b}width");
        assert_eq!(
            shown("<img src=x>"),
            "<img src=x>",
            "escaping is the template's"
        );
    }

    #[test]
    fn counts_and_times_read_well() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(1_000_000), "1,000,000");
        let now = Utc::now();
        assert_eq!(relative(now - chrono::Duration::seconds(5), now), "5s ago");
        assert_eq!(relative(now + chrono::Duration::minutes(3), now), "in 3m");
    }
}
