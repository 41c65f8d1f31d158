//! The server's address, the credentials in it, and the URLs and
//! templates the server hands out.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use coordinate_api::{Error, Result};

use crate::wire::names::encode_name;

/// A server address split into what is sent where: the origin and path
/// go on the wire, the userinfo only as an `Authorization` header.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct ServerUrl {
    /// `http://host:port` or `https://…`, without userinfo.
    pub origin: String,
    /// The root document's path (`/` at least).
    pub root_path: String,
    /// The `Authorization` value for userinfo in the URL (HTTP Basic), if any.
    pub basic_auth: Option<String>,
}

impl ServerUrl {
    /// Splits `url`; the error never repeats the URL, which may hold a
    /// token.
    pub fn parse(url: &str) -> Result<ServerUrl> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| Error::invalid("server URL", "must start with http:// or https://"))?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(Error::invalid(
                "server URL",
                "must start with http:// or https://",
            ));
        }
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(end);
        let (userinfo, host) = match authority.rfind('@') {
            Some(at) => (Some(&authority[..at]), &authority[at + 1..]),
            None => (None, authority),
        };
        if host.is_empty() {
            return Err(Error::invalid("server URL", "names no host"));
        }
        let path = path.split(['?', '#']).next().unwrap_or("");
        let root_path = if path.is_empty() { "/" } else { path }.to_owned();
        let basic_auth = userinfo.map(|info| {
            let decoded = percent_decode(info);
            format!("Basic {}", STANDARD.encode(decoded))
        });
        Ok(ServerUrl {
            origin: format!("{scheme}://{host}"),
            root_path,
            basic_auth,
        })
    }

    /// The root document's URL.
    pub fn root(&self) -> String {
        format!("{}{}", self.origin, self.root_path)
    }

    /// The absolute URL of a URL the server handed out: absolute ones as
    /// they are, paths on this server's origin, relative ones under the
    /// root path.
    pub fn resolve(&self, url: &str) -> String {
        if url.starts_with("http://") || url.starts_with("https://") {
            url.to_owned()
        } else if url.starts_with('/') {
            format!("{}{url}", self.origin)
        } else {
            let dir = match self.root_path.rfind('/') {
                Some(at) => &self.root_path[..=at],
                None => "/",
            };
            format!("{}{dir}{url}", self.origin)
        }
    }
}

impl std::fmt::Debug for ServerUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The credentials stay out of every printout.
        f.debug_struct("ServerUrl")
            .field("origin", &self.origin)
            .field("root_path", &self.root_path)
            .field(
                "basic_auth",
                &self.basic_auth.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// `%XX` escapes of URL userinfo, decoded to bytes.
fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// A template with `{variable}` filled with the encoded `name`.
pub(crate) fn fill(template: &str, variable: &str, name: &str) -> String {
    template.replace(&format!("{{{variable}}}"), &encode_name(name))
}

/// A template whose query part (`{?…}`, or `{&…}` after a query the
/// template already has) is replaced by `pairs` (whose values are
/// URL-safe already).
pub(crate) fn with_query(template: &str, pairs: &[(&str, String)]) -> String {
    let base = match template.find("{?").or_else(|| template.find("{&")) {
        Some(at) => {
            let end = template[at..]
                .find('}')
                .map_or(template.len(), |e| at + e + 1);
            format!("{}{}", &template[..at], &template[end..])
        }
        None => template.to_owned(),
    };
    if pairs.is_empty() {
        return base;
    }
    let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let joiner = if base.contains('?') { '&' } else { '?' };
    format!("{base}{joiner}{}", query.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_origin_path_and_credentials() {
        let url = ServerUrl::parse("http://any:s%40cret@localhost:5980").unwrap();
        assert_eq!(url.origin, "http://localhost:5980");
        assert_eq!(url.root(), "http://localhost:5980/");
        // base64("any:s@cret")
        assert_eq!(url.basic_auth.as_deref(), Some("Basic YW55OnNAY3JldA=="));
        let prefixed = ServerUrl::parse("HTTPS://h/coordinate/?x#y").unwrap();
        assert_eq!(prefixed.root(), "https://h/coordinate/");
        assert_eq!(prefixed.basic_auth, None);
        assert_eq!(prefixed.resolve("/namespace/a"), "https://h/namespace/a");
        assert_eq!(
            prefixed.resolve("namespace/a"),
            "https://h/coordinate/namespace/a"
        );
        assert_eq!(prefixed.resolve("http://o/x"), "http://o/x");
    }

    #[test]
    fn bad_urls_are_refused_without_echoing_them() {
        for bad in ["ftp://u:TOKEN@h/", "u:TOKEN@h", "http://u:TOKEN@/"] {
            let error = ServerUrl::parse(bad).unwrap_err();
            assert!(!error.to_string().contains("TOKEN"), "{error}");
            assert!(matches!(error, Error::InvalidInput { .. }));
        }
    }

    #[test]
    fn debug_output_hides_the_credentials() {
        let url = ServerUrl::parse("http://any:TOKEN@h:1/").unwrap();
        let shown = format!("{url:?}");
        assert!(
            !shown.contains("TOKEN") && !shown.contains("QU5Z"),
            "{shown}"
        );
        assert!(shown.contains("<redacted>"));
    }

    #[test]
    fn templates_are_filled() {
        assert_eq!(
            fill("/namespace/{namespace}", "namespace", "a b"),
            "/namespace/-YSBi"
        );
        assert_eq!(
            with_query("/s/meta{?counts}", &[("counts", "true".into())]),
            "/s/meta?counts=true"
        );
        assert_eq!(
            with_query("/s/work_unit{?name*,status*,previous,limit}", &[]),
            "/s/work_unit"
        );
        assert_eq!(
            with_query(
                "/s/change?id=1{?name*,status*,previous,limit}",
                &[("name", "a".into()), ("limit", "2".into())]
            ),
            "/s/change?id=1&name=a&limit=2"
        );
        // coordinated's templates carry a handle token before the query.
        assert_eq!(
            with_query("/s/meta?ref=9{&counts}", &[("counts", "false".into())]),
            "/s/meta?ref=9&counts=false"
        );
        assert_eq!(
            with_query("/s/work_unit?ref=9{&name*,status*,previous,limit}", &[]),
            "/s/work_unit?ref=9"
        );
        assert_eq!(
            fill("/n/work_spec/{spec}?ref=9", "spec", "a b"),
            "/n/work_spec/-YSBi?ref=9"
        );
    }
}
