//! The worker handle.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use coordinate_api::backend::validate::{validate_parent, validate_text, validate_unit_namespace};
use coordinate_api::{
    downcast, Attempt, AttemptRequest, Data, Error, ObjectKind, Result, WorkUnit, Worker,
};
use ureq::http::Method;

use super::namespace::{as_gone, RestNamespace};
use super::work_unit::incomplete;
use super::{RestAttempt, RestWorkSpec, RestWorkUnit};
use crate::wire::shapes;
use crate::wire::values::AttemptRequestJson;
use crate::wire::DataDict;

/// A worker on a server.
#[derive(Debug, Clone)]
pub struct RestWorker {
    pub(crate) namespace: Arc<RestNamespace>,
    pub(crate) repr: Arc<shapes::Worker>,
}

impl RestWorker {
    pub(crate) fn new(namespace: Arc<RestNamespace>, repr: shapes::Worker) -> Self {
        RestWorker {
            namespace,
            repr: Arc::new(repr),
        }
    }

    fn own(&self, error: Error) -> Error {
        as_gone(error, ObjectKind::Worker, &self.repr.name, None, None)
    }

    fn fresh(&self) -> Result<shapes::Worker> {
        self.namespace
            .shared
            .get(&self.repr.url)
            .map_err(|e| self.own(e))
    }

    fn put(&self, body: &shapes::Worker) -> Result<()> {
        self.namespace
            .shared
            .command(Method::PUT, &self.repr.url, body)
            .map_err(|e| self.own(e))
    }

    fn me(&self) -> Arc<RestWorker> {
        Arc::new(self.clone())
    }

    fn attempts_at(&self, url: &str) -> Result<Vec<Arc<dyn Attempt>>> {
        RestWorkUnit::attempt_list(&self.namespace, url, None, Some(&self.me()))
            .map_err(|e| self.own(e))
    }
}

impl Worker for RestWorker {
    fn name(&self) -> &str {
        &self.repr.name
    }

    fn parent(&self) -> Result<Option<Arc<dyn Worker>>> {
        let fresh = self.fresh()?;
        match fresh.parent_url.filter(|url| !url.is_empty()) {
            None => Ok(None),
            Some(url) => {
                let parent = self.namespace.worker_at(&url).map_err(|e| self.own(e))?;
                Ok(Some(parent))
            }
        }
    }

    fn set_parent(&self, parent: Option<Arc<dyn Worker>>) -> Result<()> {
        let name = match &parent {
            None => String::new(),
            Some(parent) => {
                let ours: &RestWorker = downcast(parent.as_ref() as &dyn std::any::Any)?;
                validate_parent(
                    self.namespace.is_same(&ours.namespace),
                    ours.repr.name == self.repr.name,
                )?;
                ours.repr.name.clone()
            }
        };
        self.put(&shapes::Worker {
            parent: Some(name),
            ..shapes::Worker::default()
        })
    }

    fn children(&self) -> Result<Vec<Arc<dyn Worker>>> {
        let fresh = self.fresh()?;
        fresh
            .child_urls
            .iter()
            .map(|url| {
                self.namespace
                    .worker_at(url)
                    .map(|w| w as Arc<dyn Worker>)
                    .map_err(|e| self.own(e))
            })
            .collect()
    }

    fn active(&self) -> Result<bool> {
        self.fresh()?
            .active
            .ok_or_else(|| incomplete("active flag"))
    }

    fn deactivate(&self) -> Result<()> {
        self.put(&shapes::Worker {
            active: Some(false),
            ..shapes::Worker::default()
        })
    }

    fn mode(&self) -> Result<String> {
        Ok(self.fresh()?.mode)
    }

    fn data(&self) -> Result<Data> {
        self.fresh()?
            .data
            .map_or_else(|| Ok(Data::new()), |data| data.decode())
    }

    fn expiration(&self) -> Result<DateTime<Utc>> {
        self.fresh()?
            .expiration
            .ok_or_else(|| incomplete("expiration"))
    }

    fn last_update(&self) -> Result<DateTime<Utc>> {
        self.fresh()?
            .last_update
            .ok_or_else(|| incomplete("last update"))
    }

    fn update(
        &self,
        data: Data,
        now: DateTime<Utc>,
        expiration: DateTime<Utc>,
        mode: &str,
    ) -> Result<()> {
        validate_text("mode", mode)?;
        self.put(&shapes::Worker {
            active: Some(true),
            data: Some(DataDict::encode(&data)?),
            mode: mode.to_owned(),
            expiration: Some(expiration),
            last_update: Some(now),
            ..shapes::Worker::default()
        })
    }

    fn request_attempts(&self, request: &AttemptRequest) -> Result<Vec<Arc<dyn Attempt>>> {
        let answer: shapes::AttemptResponse = self
            .namespace
            .shared
            .call(
                Method::POST,
                &self.repr.request_attempts_url,
                &AttemptRequestJson::from(request),
            )
            .map_err(|e| self.own(e))?;
        if answer.attempts.is_empty() {
            return Ok(Vec::new());
        }
        // A server of ours sends the spec and the units' names along, so a
        // claim is one request; go's sends URLs only, to be fetched.
        let spec = match answer.work_spec {
            Some(repr) => Arc::new(RestWorkSpec::new(self.namespace.clone(), *repr)),
            None => self
                .namespace
                .spec_at(&answer.work_spec_url)
                .map_err(|e| self.own(e))?,
        };
        let me = self.me();
        answer
            .attempts
            .into_iter()
            .map(|repr| {
                let unit = match &repr.work_unit {
                    Some(name) => Arc::new(RestWorkUnit::new(
                        spec.clone(),
                        name.clone(),
                        repr.work_unit_url.clone(),
                    )),
                    None => RestWorkUnit::fetch(&self.namespace, &repr.work_unit_url, Some(&spec))
                        .map_err(|e| self.own(e))?,
                };
                Ok(Arc::new(RestAttempt::new(unit, me.clone(), repr)) as Arc<dyn Attempt>)
            })
            .collect()
    }

    fn make_attempt(
        &self,
        unit: Arc<dyn WorkUnit>,
        lifetime: Duration,
    ) -> Result<Arc<dyn Attempt>> {
        let ours: &RestWorkUnit = downcast(unit.as_ref() as &dyn std::any::Any)?;
        validate_unit_namespace(self.namespace.is_same(&ours.spec.namespace))?;
        let body = shapes::AttemptSpecific {
            work_spec: ours.spec.repr.name.clone(),
            work_unit: ours.name.clone(),
            lifetime,
        };
        let repr: shapes::Attempt = self
            .namespace
            .shared
            .call(Method::POST, &self.repr.make_attempt_url, &body)
            .map_err(|e| {
                as_gone(
                    e,
                    ObjectKind::Worker,
                    &self.repr.name,
                    Some(&ours.spec.repr.name),
                    Some(&ours.name),
                )
            })?;
        Ok(Arc::new(RestAttempt::new(
            Arc::new(ours.clone()),
            self.me(),
            repr,
        )))
    }

    fn active_attempts(&self) -> Result<Vec<Arc<dyn Attempt>>> {
        self.attempts_at(&self.repr.active_attempts_url)
    }

    fn all_attempts(&self) -> Result<Vec<Arc<dyn Attempt>>> {
        self.attempts_at(&self.repr.all_attempts_url)
    }

    fn child_attempts(&self) -> Result<Vec<Arc<dyn Attempt>>> {
        self.attempts_at(&self.repr.child_attempts_url)
    }
}
