//! Names in URL paths and query strings.
//!
//! A name made only of URL-safe characters (RFC 3986's unreserved ones
//! less `~`, plus `:`) that does not start with `-` stands for itself.
//! Any other name, the empty one included, is `-` followed by the
//! URL-safe base64 of its UTF-8 bytes without padding: `""` is `-`, `"-"`
//! is `-LQ`. Decoding is the reverse; a segment that starts with `-` must
//! be valid base64 of UTF-8 text.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// Whether `name` can stand for itself in a URL.
fn is_plain(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('-')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b':'))
}

/// The URL form of a name (a path segment or a query value).
pub fn encode_name(name: &str) -> String {
    if is_plain(name) {
        name.to_owned()
    } else {
        format!("-{}", URL_SAFE_NO_PAD.encode(name.as_bytes()))
    }
}

/// A path segment or query value that is not the URL form of any name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadName {
    /// The segment as received (it may be long; it is not a secret).
    pub segment: String,
    /// What is wrong with it.
    pub why: &'static str,
}

impl fmt::Display for BadName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} is not an encoded name: {}", self.segment, self.why)
    }
}

impl std::error::Error for BadName {}

/// The name a URL form stands for.
pub fn decode_name(segment: &str) -> Result<String, BadName> {
    let Some(encoded) = segment.strip_prefix('-') else {
        return Ok(segment.to_owned());
    };
    let bad = |why| BadName {
        segment: segment.to_owned(),
        why,
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|_| bad("the text after '-' is not URL-safe base64 without padding"))?;
    String::from_utf8(bytes).map_err(|_| bad("the decoded bytes are not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_of_names() {
        let table = [
            // go-coordinate's own examples.
            ("foo", "foo"),
            ("", "-"),
            ("-", "-LQ"),
            ("\0", "-AA"),
            // Plain characters stand for themselves, '-' inside included.
            ("a-b_c.d:e", "a-b_c.d:e"),
            ("2026-12-03T06:00:00.123456Z", "2026-12-03T06:00:00.123456Z"),
            // Anything else is encoded.
            ("foo bar", "-Zm9vIGJhcg"),
            ("a/b", "-YS9i"),
            ("~", "-fg"),
            ("é", "-w6k"),
            ("?#%", "-PyMl"),
            ("-x", "-LXg"),
        ];
        for (name, encoded) in table {
            assert_eq!(encode_name(name), encoded, "encoding {name:?}");
            assert_eq!(
                decode_name(encoded).as_deref(),
                Ok(name),
                "decoding {encoded:?}"
            );
        }
    }

    #[test]
    fn every_encoding_is_url_safe_and_round_trips() {
        for name in [
            "",
            " ",
            "\u{1F600}",
            "a\nb",
            "+/=",
            "--",
            "x".repeat(300).as_str(),
        ] {
            let encoded = encode_name(name);
            assert!(
                encoded
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._:".contains(&b)),
                "{encoded}"
            );
            assert_eq!(decode_name(&encoded).unwrap(), name);
        }
    }

    #[test]
    fn bad_encodings_are_refused() {
        for bad in ["-!!", "-LQ==", "-/w", "-_w"] {
            let error = decode_name(bad).unwrap_err();
            assert_eq!(error.segment, bad);
        }
        // Valid base64 whose bytes are not UTF-8 (0xff).
        assert_eq!(
            decode_name("-_w").unwrap_err().why,
            "the decoded bytes are not UTF-8"
        );
    }
}
