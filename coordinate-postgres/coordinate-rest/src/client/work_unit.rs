//! The work unit handle.

use std::sync::Arc;

use coordinate_api::backend::validate::validate_priority;
use coordinate_api::{
    Attempt, BackendErrorKind, Data, Error, ObjectKind, Result, WorkSpec, WorkUnit, WorkUnitMeta,
    WorkUnitStatus,
};
use ureq::http::Method;

use super::namespace::{as_gone, RestNamespace};
use super::{RestAttempt, RestWorkSpec, RestWorker};
use crate::wire::additions::{self, append_segment, SetPriority};
use crate::wire::shapes;

/// A work unit on a server.
#[derive(Debug, Clone)]
pub struct RestWorkUnit {
    pub(crate) spec: Arc<RestWorkSpec>,
    pub(crate) name: String,
    pub(crate) url: String,
}

/// An answer the server should not give.
pub(crate) fn incomplete(what: &str) -> Error {
    Error::backend(
        BackendErrorKind::Other,
        format!("the server's answer has no {what}"),
    )
}

impl RestWorkUnit {
    pub(crate) fn new(spec: Arc<RestWorkSpec>, name: String, url: String) -> Self {
        RestWorkUnit { spec, name, url }
    }

    /// The unit at `url`, reusing `spec` if it is the unit's work spec.
    pub(crate) fn fetch(
        namespace: &Arc<RestNamespace>,
        url: &str,
        spec: Option<&Arc<RestWorkSpec>>,
    ) -> Result<Arc<RestWorkUnit>> {
        let repr: shapes::WorkUnit = namespace.shared.get(url)?;
        let spec = match spec {
            Some(spec) if spec.repr.url == repr.work_spec_url => spec.clone(),
            _ => namespace.spec_at(&repr.work_spec_url)?,
        };
        Ok(Arc::new(RestWorkUnit::new(spec, repr.name, repr.url)))
    }

    fn own(&self, error: Error) -> Error {
        as_gone(
            error,
            ObjectKind::WorkUnit,
            &self.name,
            Some(&self.spec.repr.name),
            Some(&self.name),
        )
    }

    fn shared(&self) -> &super::http::Shared {
        &self.spec.namespace.shared
    }

    fn repr(&self) -> Result<shapes::WorkUnit> {
        self.shared().get(&self.url).map_err(|e| self.own(e))
    }

    fn put(&self, body: &shapes::WorkUnit) -> Result<()> {
        self.shared()
            .command(Method::PUT, &self.url, body)
            .map_err(|e| self.own(e))
    }

    /// Attempt handles for the attempts listed at `url`.
    pub(crate) fn attempt_list(
        namespace: &Arc<RestNamespace>,
        url: &str,
        unit: Option<&Arc<RestWorkUnit>>,
        worker: Option<&Arc<RestWorker>>,
    ) -> Result<Vec<Arc<dyn Attempt>>> {
        let list: shapes::AttemptList = namespace.shared.get(url)?;
        list.attempts
            .iter()
            .map(|short| {
                RestAttempt::fetch(namespace, &short.url, unit, worker)
                    .map(|a| a as Arc<dyn Attempt>)
            })
            .collect()
    }

    fn attempts_url(&self) -> Result<String> {
        Ok(self.repr()?.attempts_url)
    }
}

impl WorkUnit for RestWorkUnit {
    fn name(&self) -> &str {
        &self.name
    }

    fn work_spec(&self) -> Arc<dyn WorkSpec> {
        self.spec.clone()
    }

    fn data(&self) -> Result<Data> {
        self.repr()?
            .data
            .map_or_else(|| Ok(Data::new()), |data| data.decode())
    }

    fn status(&self) -> Result<WorkUnitStatus> {
        self.repr()?.status.ok_or_else(|| incomplete("status"))
    }

    fn meta(&self) -> Result<WorkUnitMeta> {
        Ok(self.repr()?.meta.ok_or_else(|| incomplete("meta"))?.into())
    }

    fn set_meta(&self, meta: WorkUnitMeta) -> Result<()> {
        validate_priority("priority", meta.priority)?;
        self.put(&shapes::WorkUnit {
            meta: Some(meta.into()),
            ..shapes::WorkUnit::default()
        })
    }

    fn priority(&self) -> Result<f64> {
        Ok(self.meta()?.priority)
    }

    fn set_priority(&self, priority: f64) -> Result<()> {
        validate_priority("priority", priority)?;
        let url = append_segment(&self.url, additions::SET_PRIORITY);
        self.shared()
            .command(Method::POST, &url, &SetPriority { priority })
            .map_err(|e| self.own(e))
    }

    fn active_attempt(&self) -> Result<Option<Arc<dyn Attempt>>> {
        let Some(url) = self.repr()?.active_attempt_url else {
            return Ok(None);
        };
        let me = Arc::new(self.clone());
        let attempt = RestAttempt::fetch(&self.spec.namespace, &url, Some(&me), None)
            .map_err(|e| self.own(e))?;
        Ok(Some(attempt))
    }

    fn clear_active_attempt(&self) -> Result<()> {
        self.put(&shapes::WorkUnit {
            active_attempt_url: Some("-".to_owned()),
            ..shapes::WorkUnit::default()
        })
    }

    fn attempts(&self) -> Result<Vec<Arc<dyn Attempt>>> {
        let url = self.attempts_url()?;
        let me = Arc::new(self.clone());
        Self::attempt_list(&self.spec.namespace, &url, Some(&me), None).map_err(|e| self.own(e))
    }

    fn num_attempts(&self) -> Result<usize> {
        let url = self.attempts_url()?;
        let list: shapes::AttemptList = self.shared().get(&url).map_err(|e| self.own(e))?;
        Ok(list.attempts.len())
    }
}
