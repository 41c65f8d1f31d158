//! A request's view of its store: the handles its path names, reached
//! through the request's `ref` when it carries one (see
//! [`crate::handles`]), else by names as go does.
//!
//! A `ref` may be the handle of the object the path names or of one of
//! its ancestors on that path (a namespace for a work spec path, a work
//! spec for a unit path, …): templates carry their document's token, so
//! `…/work_spec/{spec}?ref=NS` filled in by a client looks the spec up in
//! that namespace handle. The handle's names must be the path's (400
//! otherwise, as for a handle of something the path does not name). An
//! attempt handle is checked against its unit, spec, worker and
//! namespace names, not its start time, which only the store knows.

use std::sync::Arc;

use coordinate_api::{Attempt, Coordinate, Namespace, WorkSpec, WorkUnit, Worker};

use super::support::{query_pairs, store};
use super::urls::{AttemptPath, Urls};
use crate::error::ApiError;
use crate::handles::{Handle, HandleRegistry, Registered};

/// The `ref` query parameter of a URL's query string: the token, `None`
/// without one; 400 if it is not a number or is given twice.
pub fn reference(query: Option<&str>) -> Result<Option<u64>, ApiError> {
    let mut found = None;
    for (key, value) in query_pairs(query) {
        if key != "ref" {
            continue;
        }
        let token = value
            .parse()
            .map_err(|_| ApiError::bad_request(format!("ref {value:?} is not a handle token")))?;
        if found.replace(token).is_some() {
            return Err(ApiError::bad_request("ref is given more than once"));
        }
    }
    Ok(found)
}

/// The `ref` of a URL handed out in a body (an attempt to complete).
pub fn reference_in(url: &str) -> Result<Option<u64>, ApiError> {
    let without_fragment = url.split('#').next().unwrap_or("");
    reference(without_fragment.split_once('?').map(|(_, query)| query))
}

/// One store call's view: the store, its handle registry, the request's
/// `ref` and this server's URLs.
pub struct Scope<'a> {
    coordinate: &'a dyn Coordinate,
    handles: &'a HandleRegistry,
    reference: Option<u64>,
    urls: Urls,
}

/// A namespace handle and one of its objects.
pub type In<T> = (Arc<dyn Namespace>, Arc<T>);

impl<'a> Scope<'a> {
    /// The view of `coordinate` for a request carrying `reference`.
    pub fn new(
        coordinate: &'a dyn Coordinate,
        handles: &'a HandleRegistry,
        reference: Option<u64>,
        urls: Urls,
    ) -> Self {
        Scope {
            coordinate,
            handles,
            reference,
            urls,
        }
    }

    /// The store.
    pub fn coordinate(&self) -> &dyn Coordinate {
        self.coordinate
    }

    /// This server's URLs, by names.
    pub fn urls(&self) -> &Urls {
        &self.urls
    }

    /// The registry links are minted in.
    pub fn handles(&self) -> &HandleRegistry {
        self.handles
    }

    /// The registered handle of `reference`, with the token; `None` for
    /// no token or one no longer registered (evicted, or from another
    /// registry), which falls back to names.
    fn lookup(&self, reference: Option<u64>) -> Option<(u64, Registered)> {
        let token = reference?;
        Some((token, self.handles.get(token)?))
    }

    /// The namespace the path names.
    pub fn namespace(&self, ns: &str) -> Result<Arc<dyn Namespace>, ApiError> {
        self.namespace_of(self.lookup(self.reference).as_ref(), ns)
    }

    /// The work spec the path names, with its namespace.
    pub fn work_spec(&self, ns: &str, spec: &str) -> Result<In<dyn WorkSpec>, ApiError> {
        self.spec_of(self.lookup(self.reference).as_ref(), ns, spec)
    }

    /// The work unit the path names, with its namespace.
    pub fn work_unit(
        &self,
        ns: &str,
        spec: &str,
        unit: &str,
    ) -> Result<In<dyn WorkUnit>, ApiError> {
        self.unit_of(self.lookup(self.reference).as_ref(), ns, spec, unit)
    }

    /// The worker the path names, with its namespace.
    pub fn worker(&self, ns: &str, worker: &str) -> Result<In<dyn Worker>, ApiError> {
        let found = self.lookup(self.reference);
        if let Some((
            token,
            Registered {
                namespace,
                handle: Handle::Worker(w),
            },
        )) = &found
        {
            same(*token, "namespace", namespace.name(), ns)?;
            same(*token, "worker", w.name(), worker)?;
            return Ok((namespace.clone(), w.clone()));
        }
        let namespace = self.namespace_of(found.as_ref(), ns)?;
        let w = namespace.worker(worker).map_err(store)?;
        Ok((namespace, w))
    }

    /// The attempt the request's path names, with its namespace.
    pub fn attempt(&self, path: &AttemptPath) -> Result<In<dyn Attempt>, ApiError> {
        self.attempt_with(self.reference, path)
    }

    /// The attempt `path` names through `reference` (an attempt URL's own
    /// `ref`, for attempts given in a body). Without a usable handle, the
    /// newest attempt of the path's worker with the path's start time:
    /// attempts made at one instant share a URL, and the newest is the
    /// one a client most likely holds.
    pub fn attempt_with(
        &self,
        reference: Option<u64>,
        path: &AttemptPath,
    ) -> Result<In<dyn Attempt>, ApiError> {
        let found = self.lookup(reference);
        if let Some((
            token,
            Registered {
                namespace,
                handle: Handle::Attempt(a),
            },
        )) = &found
        {
            let unit = a.work_unit();
            same(*token, "namespace", namespace.name(), &path.namespace)?;
            same(
                *token,
                "work spec",
                unit.work_spec().name(),
                &path.work_spec,
            )?;
            same(*token, "work unit", unit.name(), &path.work_unit)?;
            same(*token, "worker", a.worker().name(), &path.worker)?;
            return Ok((namespace.clone(), a.clone()));
        }
        let (namespace, unit) = self.unit_of(
            found.as_ref(),
            &path.namespace,
            &path.work_spec,
            &path.work_unit,
        )?;
        for attempt in unit.attempts().map_err(store)?.into_iter().rev() {
            if attempt.worker().name() == path.worker
                && attempt.start_time().map_err(store)? == path.start
            {
                return Ok((namespace, attempt));
            }
        }
        Err(ApiError::not_found(format!(
            "no attempt of worker {:?} started at {} on work unit {:?}",
            path.worker, path.start, path.work_unit
        )))
    }

    fn namespace_of(
        &self,
        found: Option<&(u64, Registered)>,
        ns: &str,
    ) -> Result<Arc<dyn Namespace>, ApiError> {
        match found {
            None => self.coordinate.namespace(ns).map_err(store),
            Some((
                token,
                Registered {
                    namespace,
                    handle: Handle::Namespace(_),
                },
            )) => {
                same(*token, "namespace", namespace.name(), ns)?;
                Ok(namespace.clone())
            }
            Some((token, other)) => Err(ApiError::bad_request(format!(
                "ref {token} is a handle of a {} this path does not name",
                other.handle.kind()
            ))),
        }
    }

    fn spec_of(
        &self,
        found: Option<&(u64, Registered)>,
        ns: &str,
        spec: &str,
    ) -> Result<In<dyn WorkSpec>, ApiError> {
        if let Some((
            token,
            Registered {
                namespace,
                handle: Handle::WorkSpec(s),
            },
        )) = found
        {
            same(*token, "namespace", namespace.name(), ns)?;
            same(*token, "work spec", s.name(), spec)?;
            return Ok((namespace.clone(), s.clone()));
        }
        let namespace = match found {
            // By names, the namespace must already exist: a lookup that
            // fails under it must not leave a new, empty namespace behind
            // (go's get-or-create would). go's client then sees the error
            // it expects for a missing work spec.
            None => self
                .existing_namespace(ns)?
                .ok_or_else(|| store(coordinate_api::Error::no_such_work_spec(spec)))?,
            Some(_) => self.namespace_of(found, ns)?,
        };
        let s = namespace.work_spec(spec).map_err(store)?;
        Ok((namespace, s))
    }

    /// The namespace called `ns`, if it exists, without creating it.
    fn existing_namespace(&self, ns: &str) -> Result<Option<Arc<dyn Namespace>>, ApiError> {
        Ok(self
            .coordinate
            .namespaces()
            .map_err(store)?
            .into_iter()
            .find(|namespace| namespace.name() == ns))
    }

    fn unit_of(
        &self,
        found: Option<&(u64, Registered)>,
        ns: &str,
        spec: &str,
        unit: &str,
    ) -> Result<In<dyn WorkUnit>, ApiError> {
        if let Some((
            token,
            Registered {
                namespace,
                handle: Handle::WorkUnit(u),
            },
        )) = found
        {
            same(*token, "namespace", namespace.name(), ns)?;
            same(*token, "work spec", u.work_spec().name(), spec)?;
            same(*token, "work unit", u.name(), unit)?;
            return Ok((namespace.clone(), u.clone()));
        }
        let (namespace, s) = self.spec_of(found, ns, spec)?;
        let u = s.work_unit(unit).map_err(store)?;
        Ok((namespace, u))
    }
}

/// 400 unless the registered handle's `what` is named `actual` as the
/// path says (`expected`).
fn same(token: u64, what: &str, actual: &str, expected: &str) -> Result<(), ApiError> {
    if actual == expected {
        return Ok(());
    }
    Err(ApiError::bad_request(format!(
        "ref {token} is a handle in {what} {actual:?}, but the path names {what} {expected:?}"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_are_numbers_given_once() {
        assert_eq!(reference(None).unwrap(), None);
        assert_eq!(reference(Some("counts=true&ref=42")).unwrap(), Some(42));
        assert_eq!(reference(Some("ref=x")).unwrap_err().status, 400);
        assert_eq!(reference(Some("ref=1&ref=2")).unwrap_err().status, 400);
        assert_eq!(reference_in("http://h/a/b?ref=7#f").unwrap(), Some(7));
        assert_eq!(reference_in("/a/b").unwrap(), None);
    }
}
