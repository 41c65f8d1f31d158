//! The URLs of handles: a path by names (go's) with `?ref=TOKEN`, the
//! handle's token in the registry (see [`crate::handles`]). A
//! sub-resource or template below a handle carries the handle's token
//! too, so whatever a client reaches from a document is resolved through
//! the handle the document was made from.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use coordinate_api::{Attempt, Namespace, WorkSpec, WorkUnit, Worker};

use super::scope::Scope;
use crate::handles::Handle;

/// A handle's path and token: its URL and the URLs below it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    path: String,
    token: u64,
}

impl Link {
    /// The handle's URL.
    pub fn url(&self) -> String {
        self.below("")
    }

    /// The URL of `rest` below the handle (`/summary`, or a template such
    /// as `/work_spec/{spec}`), with the handle's token.
    pub fn below(&self, rest: &str) -> String {
        format!("{}{rest}?ref={}", self.path, self.token)
    }

    /// A template of `rest` below the handle with the query variables
    /// `variables`: `{&…}`, since the token already opened the query.
    pub fn query_template(&self, rest: &str, variables: &str) -> String {
        format!("{}{{&{variables}}}", self.below(rest))
    }
}

impl Scope<'_> {
    fn mint(&self, ns: &Arc<dyn Namespace>, path: String, handle: Handle) -> Link {
        let token = self.handles().register(ns, handle);
        Link { path, token }
    }

    /// The link of a namespace.
    pub fn namespace_link(&self, ns: &Arc<dyn Namespace>) -> Link {
        let path = self.urls().namespace(ns.name());
        self.mint(ns, path, Handle::Namespace(ns.clone()))
    }

    /// The link of a work spec.
    pub fn work_spec_link(&self, ns: &Arc<dyn Namespace>, spec: &Arc<dyn WorkSpec>) -> Link {
        let path = self.urls().work_spec(ns.name(), spec.name());
        self.mint(ns, path, Handle::WorkSpec(spec.clone()))
    }

    /// The link of a work spec known only by name: its path with the
    /// namespace's token, so that it is looked up in that namespace.
    pub fn work_spec_name_link(&self, ns: &Arc<dyn Namespace>, spec: &str) -> Link {
        Link {
            path: self.urls().work_spec(ns.name(), spec),
            token: self.namespace_link(ns).token,
        }
    }

    /// The link of a work unit.
    pub fn work_unit_link(&self, ns: &Arc<dyn Namespace>, unit: &Arc<dyn WorkUnit>) -> Link {
        let path = self
            .urls()
            .work_unit(ns.name(), unit.work_spec().name(), unit.name());
        self.mint(ns, path, Handle::WorkUnit(unit.clone()))
    }

    /// The link of a worker.
    pub fn worker_link(&self, ns: &Arc<dyn Namespace>, worker: &Arc<dyn Worker>) -> Link {
        let path = self.urls().worker(ns.name(), worker.name());
        self.mint(ns, path, Handle::Worker(worker.clone()))
    }

    /// The link of an attempt that started at `start`.
    pub fn attempt_link(
        &self,
        ns: &Arc<dyn Namespace>,
        attempt: &Arc<dyn Attempt>,
        start: DateTime<Utc>,
    ) -> Link {
        let unit = attempt.work_unit();
        let path = self.urls().attempt(
            ns.name(),
            unit.work_spec().name(),
            unit.name(),
            attempt.worker().name(),
            start,
        );
        self.mint(ns, path, Handle::Attempt(attempt.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_the_token_below_and_before_query_templates() {
        let link = Link {
            path: "/namespace/n".to_owned(),
            token: 7,
        };
        assert_eq!(link.url(), "/namespace/n?ref=7");
        assert_eq!(
            link.below("/work_spec/{spec}"),
            "/namespace/n/work_spec/{spec}?ref=7"
        );
        assert_eq!(
            link.query_template("/meta", "counts"),
            "/namespace/n/meta?ref=7{&counts}"
        );
    }
}
