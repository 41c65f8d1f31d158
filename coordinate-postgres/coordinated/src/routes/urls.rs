//! The paths of this server's URLs: under `--path-prefix`, names encoded
//! as the wire says, attempts by worker and exact start time. The URLs
//! handed out add a handle token to them ([`super::links`]).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use coordinate_rest::wire::encode_name as enc;
use coordinate_rest::wire::time::format_time;

/// Builds this server's URLs.
#[derive(Debug, Clone)]
pub struct Urls {
    prefix: Arc<str>,
}

impl Urls {
    /// URLs under `prefix` (`""` or `/prefix`).
    pub fn new(prefix: &str) -> Self {
        Urls {
            prefix: prefix.into(),
        }
    }

    fn path(&self, path: &str) -> String {
        format!("{}{path}", self.prefix)
    }

    /// The root document.
    pub fn root(&self) -> String {
        self.path("/")
    }

    /// The summary of everything.
    pub fn summary(&self) -> String {
        self.path("/summary")
    }

    /// The namespace list.
    pub fn namespaces(&self) -> String {
        self.path("/namespace")
    }

    /// One namespace; `{namespace}` as a template.
    pub fn namespace(&self, ns: &str) -> String {
        self.path(&format!("/namespace/{}", enc(ns)))
    }

    /// A namespace URL with `{namespace}` left to fill in.
    pub fn namespace_template(&self) -> String {
        self.path("/namespace/{namespace}")
    }

    /// A path below a namespace.
    pub fn in_namespace(&self, ns: &str, rest: &str) -> String {
        format!("{}{rest}", self.namespace(ns))
    }

    /// One work spec.
    pub fn work_spec(&self, ns: &str, spec: &str) -> String {
        self.in_namespace(ns, &format!("/work_spec/{}", enc(spec)))
    }

    /// One work unit.
    pub fn work_unit(&self, ns: &str, spec: &str, unit: &str) -> String {
        format!("{}/work_unit/{}", self.work_spec(ns, spec), enc(unit))
    }

    /// One worker.
    pub fn worker(&self, ns: &str, worker: &str) -> String {
        self.in_namespace(ns, &format!("/worker/{}", enc(worker)))
    }

    /// One attempt: its unit, its worker and its exact start time.
    pub fn attempt(
        &self,
        ns: &str,
        spec: &str,
        unit: &str,
        worker: &str,
        start: DateTime<Utc>,
    ) -> String {
        format!(
            "{}/attempt/{}/{}",
            self.work_unit(ns, spec, unit),
            enc(worker),
            enc(&format_time(start))
        )
    }

    /// The names in an attempt URL this server handed out (absolute or
    /// not): namespace, spec, unit, worker, start time; `None` if it is
    /// not one.
    pub fn parse_attempt(&self, url: &str) -> Option<AttemptPath> {
        let path = match url.split_once("://") {
            Some((_, rest)) => &rest[rest.find('/')?..],
            None => url,
        };
        let path = path.split(['?', '#']).next()?;
        let path = path.strip_prefix(&*self.prefix)?;
        let parts: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
        let decode = |s: &str| {
            let unescaped = form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())?;
            coordinate_rest::wire::decode_name(&unescaped).ok()
        };
        match parts.as_slice() {
            ["namespace", ns, "work_spec", spec, "work_unit", unit, "attempt", worker, start] => {
                let start = coordinate_rest::wire::time::parse_time(&decode(start)?).ok()?;
                Some(AttemptPath {
                    namespace: decode(ns)?,
                    work_spec: decode(spec)?,
                    work_unit: decode(unit)?,
                    worker: decode(worker)?,
                    start,
                })
            }
            _ => None,
        }
    }
}

/// What an attempt URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptPath {
    /// The namespace.
    pub namespace: String,
    /// The work spec.
    pub work_spec: String,
    /// The work unit.
    pub work_unit: String,
    /// The worker.
    pub worker: String,
    /// The start time.
    pub start: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn attempt_urls_round_trip() {
        let urls = Urls::new("/c");
        let start = Utc.with_ymd_and_hms(2026, 12, 3, 6, 0, 0).unwrap()
            + chrono::Duration::microseconds(123_456);
        let url = urls.attempt("n s", "spec", "u/1", "w", start);
        assert_eq!(
            url,
            "/c/namespace/-biBz/work_spec/spec/work_unit/-dS8x/attempt/w/2026-12-03T06:00:00.123456Z"
        );
        let parsed = urls.parse_attempt(&format!("http://h:1{url}")).unwrap();
        assert_eq!(parsed.namespace, "n s");
        assert_eq!(parsed.work_unit, "u/1");
        assert_eq!(parsed.start, start);
        assert!(urls.parse_attempt("/namespace/x").is_none());
    }
}
