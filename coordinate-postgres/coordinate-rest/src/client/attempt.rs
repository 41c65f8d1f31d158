//! The attempt handle.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use coordinate_api::{Attempt, AttemptStatus, Data, Error, ObjectKind, Result, WorkUnit, Worker};
use ureq::http::Method;

use super::namespace::{as_gone, RestNamespace};
use super::{RestWorkUnit, RestWorker};
use crate::wire::shapes::{self, AttemptCompletion};

/// An attempt on a server, addressed by the URL the server gave it.
#[derive(Debug, Clone)]
pub struct RestAttempt {
    pub(crate) unit: Arc<RestWorkUnit>,
    pub(crate) worker: Arc<RestWorker>,
    pub(crate) repr: Arc<shapes::Attempt>,
}

impl RestAttempt {
    pub(crate) fn new(
        unit: Arc<RestWorkUnit>,
        worker: Arc<RestWorker>,
        repr: shapes::Attempt,
    ) -> Self {
        RestAttempt {
            unit,
            worker,
            repr: Arc::new(repr),
        }
    }

    /// The attempt at `url`, reusing `unit` and `worker` where they are
    /// its own.
    pub(crate) fn fetch(
        namespace: &Arc<RestNamespace>,
        url: &str,
        unit: Option<&Arc<RestWorkUnit>>,
        worker: Option<&Arc<RestWorker>>,
    ) -> Result<Arc<RestAttempt>> {
        let repr: shapes::Attempt = namespace.shared.get(url)?;
        let unit = match unit {
            Some(unit) if unit.url == repr.work_unit_url => unit.clone(),
            _ => RestWorkUnit::fetch(namespace, &repr.work_unit_url, None)?,
        };
        let worker = match worker {
            Some(worker) if worker.repr.url == repr.worker_url => worker.clone(),
            _ => namespace.worker_at(&repr.worker_url)?,
        };
        Ok(Arc::new(RestAttempt::new(unit, worker, repr)))
    }

    fn own(&self, error: Error) -> Error {
        let unit = &self.unit.name;
        as_gone(
            error,
            ObjectKind::Attempt,
            unit,
            Some(&self.unit.spec.repr.name),
            Some(unit),
        )
    }

    fn fresh(&self) -> Result<shapes::Attempt> {
        self.unit
            .spec
            .namespace
            .shared
            .get(&self.repr.url)
            .map_err(|e| self.own(e))
    }

    fn post(&self, url: &str, data: Option<Data>, extend: Duration, delay: Duration) -> Result<()> {
        let body = AttemptCompletion {
            data: RestNamespace::wire_data(data.as_ref())?,
            extend_duration: extend,
            delay,
        };
        self.unit
            .spec
            .namespace
            .shared
            .command(Method::POST, url, &body)
            .map_err(|e| self.own(e))
    }
}

impl Attempt for RestAttempt {
    fn work_unit(&self) -> Arc<dyn WorkUnit> {
        self.unit.clone()
    }

    fn worker(&self) -> Arc<dyn Worker> {
        self.worker.clone()
    }

    fn status(&self) -> Result<AttemptStatus> {
        Ok(self.fresh()?.status)
    }

    fn data(&self) -> Result<Data> {
        self.fresh()?
            .data
            .map_or_else(|| Ok(Data::new()), |data| data.decode())
    }

    fn start_time(&self) -> Result<DateTime<Utc>> {
        // Asked of the server so that a deleted attempt says so.
        Ok(self.fresh()?.start_time)
    }

    fn end_time(&self) -> Result<Option<DateTime<Utc>>> {
        Ok(self.fresh()?.end_time)
    }

    fn expiration_time(&self) -> Result<DateTime<Utc>> {
        Ok(self.fresh()?.expiration_time)
    }

    fn renew(&self, extend: Duration, data: Option<Data>) -> Result<()> {
        self.post(&self.repr.renew_url, data, extend, Duration::ZERO)
    }

    fn expire(&self, data: Option<Data>) -> Result<()> {
        self.post(&self.repr.expire_url, data, Duration::ZERO, Duration::ZERO)
    }

    fn finish(&self, data: Option<Data>) -> Result<()> {
        self.post(&self.repr.finish_url, data, Duration::ZERO, Duration::ZERO)
    }

    fn fail(&self, data: Option<Data>) -> Result<()> {
        self.post(&self.repr.fail_url, data, Duration::ZERO, Duration::ZERO)
    }

    fn retry(&self, data: Option<Data>, delay: Duration) -> Result<()> {
        self.post(&self.repr.retry_url, data, Duration::ZERO, delay)
    }
}
