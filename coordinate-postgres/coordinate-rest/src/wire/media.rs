//! Media types and content negotiation, as go-coordinate's server does it.
//!
//! Every body is JSON. A response goes out as the type the request's
//! `Accept` header prefers among the JSON types below; no `Accept` header,
//! `*/*` and `application/*` get [`V1_JSON`], `text/*` gets `text/json`.
//! A request body may be any of the four JSON types, or have no
//! `Content-Type` at all.

use std::fmt;

/// The preferred media type: version 1 of the coordinate JSON form.
pub const V1_JSON: &str = "application/vnd.diffeo.coordinate.v1+json";

/// The coordinate JSON form, latest version (which is version 1).
pub const JSON: &str = "application/vnd.diffeo.coordinate+json";

/// The JSON media types a body may have and a response may be sent as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaType {
    /// `application/vnd.diffeo.coordinate.v1+json`.
    CoordinateV1Json,
    /// `application/vnd.diffeo.coordinate+json`.
    CoordinateJson,
    /// `application/json`.
    ApplicationJson,
    /// `text/json`.
    TextJson,
}

impl MediaType {
    /// Every type, the preferred first.
    pub const ALL: [MediaType; 4] = [
        MediaType::CoordinateV1Json,
        MediaType::CoordinateJson,
        MediaType::ApplicationJson,
        MediaType::TextJson,
    ];

    /// The type as it appears in a header.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::CoordinateV1Json => V1_JSON,
            MediaType::CoordinateJson => JSON,
            MediaType::ApplicationJson => "application/json",
            MediaType::TextJson => "text/json",
        }
    }

    /// The type named by a lower-case `type/subtype`, if it is one of ours.
    pub fn from_essence(essence: &str) -> Option<MediaType> {
        MediaType::ALL.into_iter().find(|t| t.as_str() == essence)
    }
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why no response type could be chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotAcceptable {
    /// The `Accept` header could not be read (HTTP 400).
    Malformed(String),
    /// The header names none of our types, nor a wildcard that covers
    /// one (HTTP 406).
    NoMatch,
}

impl NotAcceptable {
    /// The HTTP status a server answers with.
    pub fn status(&self) -> u16 {
        match self {
            NotAcceptable::Malformed(_) => 400,
            NotAcceptable::NoMatch => 406,
        }
    }
}

impl fmt::Display for NotAcceptable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotAcceptable::Malformed(why) => write!(f, "invalid Accept header: {why}"),
            NotAcceptable::NoMatch => f.write_str("no acceptable representation for the response"),
        }
    }
}

impl std::error::Error for NotAcceptable {}

/// One parsed media range: its lower-case `type/subtype` and parameters.
fn parse_media_range(range: &str) -> Result<(String, Vec<(String, String)>), String> {
    let mut parts = range.split(';');
    let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let valid_token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    };
    match essence.split_once('/') {
        Some((kind, sub)) if valid_token(kind) && valid_token(sub) => {}
        _ => return Err(format!("{essence:?} is not a media type")),
    }
    let mut params = Vec::new();
    for param in parts {
        let param = param.trim();
        if param.is_empty() {
            continue;
        }
        let (key, value) = param
            .split_once('=')
            .ok_or_else(|| format!("parameter {param:?} has no value"))?;
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        params.push((key.trim().to_ascii_lowercase(), value.to_owned()));
    }
    Ok((essence, params))
}

/// Chooses the response type for a request's `Accept` header (RFC 7231
/// section 5.3, as go-coordinate reads it): the range of highest quality
/// wins; among equal qualities a named type beats `text/*` and
/// `application/*`, which beat `*/*`, and the first named type wins.
/// Ranges of types we do not have are ignored.
pub fn choose_response_type(accept: Option<&str>) -> Result<MediaType, NotAcceptable> {
    let accept = match accept.map(str::trim) {
        None | Some("") => "*/*",
        Some(accept) => accept,
    };
    // 0: none yet, 1: */*, 2: text/* or application/*, 3: a named type.
    let mut best: Option<(u8, f64, MediaType)> = None;
    for range in accept.split(',') {
        let (essence, params) = parse_media_range(range).map_err(NotAcceptable::Malformed)?;
        let mut quality = 1.0;
        if let Some((_, q)) = params.iter().find(|(key, _)| key == "q") {
            quality = q
                .parse::<f64>()
                .map_err(|_| NotAcceptable::Malformed(format!("quality {q:?} is not a number")))?;
            if !(0.0..=1.0).contains(&quality) {
                return Err(NotAcceptable::Malformed(format!(
                    "quality {q} is outside 0 to 1"
                )));
            }
        }
        let (rank, chosen) = match essence.as_str() {
            "*/*" => (1, MediaType::CoordinateV1Json),
            "application/*" => (2, MediaType::CoordinateV1Json),
            "text/*" => (2, MediaType::TextJson),
            other => match MediaType::from_essence(other) {
                Some(named) => (3, named),
                None => continue,
            },
        };
        let better = match best {
            None => quality > 0.0,
            Some((best_rank, best_quality, _)) => {
                quality > best_quality || (quality == best_quality && rank > best_rank)
            }
        };
        if better {
            best = Some((rank, quality, chosen));
        }
    }
    best.map(|(_, _, chosen)| chosen)
        .ok_or(NotAcceptable::NoMatch)
}

/// Whether a request body with this `Content-Type` is JSON we read: one
/// of the four [`MediaType`]s (any parameters, such as a charset), or no
/// header at all.
pub fn is_json_content_type(content_type: Option<&str>) -> bool {
    match content_type.map(str::trim) {
        None | Some("") => true,
        Some(value) => parse_media_range(value)
            .ok()
            .and_then(|(essence, _)| MediaType::from_essence(&essence))
            .is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_accept_or_any_gets_the_v1_type() {
        for accept in [None, Some(""), Some("*/*"), Some("application/*")] {
            assert_eq!(
                choose_response_type(accept),
                Ok(MediaType::CoordinateV1Json),
                "{accept:?}"
            );
        }
        assert_eq!(
            choose_response_type(Some("text/*")),
            Ok(MediaType::TextJson)
        );
    }

    #[test]
    fn named_types_beat_wildcards_and_quality_decides() {
        let cases = [
            ("*/*, application/json", MediaType::ApplicationJson),
            ("application/json, text/json", MediaType::ApplicationJson),
            (
                "text/json;q=0.5, application/json;q=0.9",
                MediaType::ApplicationJson,
            ),
            ("application/json;q=0.1, */*", MediaType::CoordinateV1Json),
            ("text/html, */*;q=0.8", MediaType::CoordinateV1Json),
            (
                "Application/Vnd.Diffeo.Coordinate+JSON; charset=utf-8",
                MediaType::CoordinateJson,
            ),
            ("text/*;q=0.9, */*;q=0.9", MediaType::TextJson),
        ];
        for (accept, expected) in cases {
            assert_eq!(choose_response_type(Some(accept)), Ok(expected), "{accept}");
        }
    }

    #[test]
    fn unknown_types_are_not_acceptable_and_garbage_is_malformed() {
        assert_eq!(
            choose_response_type(Some("text/html")),
            Err(NotAcceptable::NoMatch)
        );
        assert_eq!(
            choose_response_type(Some("application/json;q=0")),
            Err(NotAcceptable::NoMatch)
        );
        for bad in ["nonsense", "text/json;q=2", "text/json;q=x", "a/b;novalue"] {
            let error = choose_response_type(Some(bad)).unwrap_err();
            assert!(matches!(error, NotAcceptable::Malformed(_)), "{bad}");
            assert_eq!(error.status(), 400);
        }
        assert_eq!(NotAcceptable::NoMatch.status(), 406);
    }

    #[test]
    fn bodies_are_json_of_any_of_our_types_or_untyped() {
        for ok in [
            None,
            Some(""),
            Some("application/json"),
            Some("text/json; charset=utf-8"),
            Some(V1_JSON),
            Some(JSON),
        ] {
            assert!(is_json_content_type(ok), "{ok:?}");
        }
        for refused in [
            "text/plain",
            "application/cbor",
            "application/x-www-form-urlencoded",
        ] {
            assert!(!is_json_content_type(Some(refused)), "{refused}");
        }
    }
}
