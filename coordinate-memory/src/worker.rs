//! Workers: the state of one worker, and the `Worker` trait.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use coordinate_api::backend::validate::{
    add_duration, validate_parent, validate_text, validate_unit_namespace,
};
use coordinate_api::clock::truncate_to_micros;
use coordinate_api::query::DEFAULT_LIFETIME;
use coordinate_api::retention::Retention;
use coordinate_api::{
    downcast, Attempt, AttemptRequest, Data, ObjectKind, Result, WorkUnit, Worker,
};

use crate::attempt::{attempt_handles, MemAttempt};
use crate::coordinate::Id;
use crate::namespace::{named, MemNamespace, NamespaceState};
use crate::work_unit::MemWorkUnit;

/// One worker.
pub(crate) struct WorkerRec {
    pub(crate) name: Arc<str>,
    pub(crate) parent: Option<Id>,
    pub(crate) children: BTreeSet<Id>,
    active: bool,
    mode: String,
    data: Data,
    expiration: DateTime<Utc>,
    last_update: DateTime<Utc>,
    /// Its pending attempts (ids grow with time, so this is oldest first).
    pub(crate) active_attempts: BTreeSet<Id>,
    /// Every attempt it made that still exists.
    pub(crate) all_attempts: BTreeSet<Id>,
}

impl WorkerRec {
    /// A new, active worker whose report is current for the default lease.
    pub(crate) fn new(name: Arc<str>, now: DateTime<Utc>) -> Result<Self> {
        Ok(WorkerRec {
            name,
            parent: None,
            children: BTreeSet::new(),
            active: true,
            mode: String::new(),
            data: Data::new(),
            expiration: add_duration("worker expiration", now, DEFAULT_LIFETIME)?,
            last_update: now,
            active_attempts: BTreeSet::new(),
            all_attempts: BTreeSet::new(),
        })
    }

    /// Whether history retention removes this worker (see
    /// [`Retention::worker_goes`]).
    pub(crate) fn goes(&self, rules: &Retention) -> bool {
        rules.worker_goes(self.active, self.expiration, self.all_attempts.len())
    }
}

/// Handle to one worker.
#[derive(Clone)]
pub(crate) struct MemWorker {
    pub(crate) namespace: MemNamespace,
    pub(crate) id: Id,
    pub(crate) name: Arc<str>,
}

impl MemWorker {
    /// Runs `f` on the namespace state once the worker is known to exist;
    /// [`Error::Gone`] otherwise.
    pub(crate) fn with<T>(
        &self,
        f: impl FnOnce(&mut NamespaceState, DateTime<Utc>) -> Result<T>,
    ) -> Result<T> {
        self.namespace
            .with(|namespace, now| {
                namespace.worker(self.id)?;
                f(namespace, now)
            })
            .map_err(|e| named(e, ObjectKind::Worker, &self.name))
    }

    /// Reads something from the worker's record.
    fn read<T>(&self, f: impl FnOnce(&WorkerRec) -> T) -> Result<T> {
        self.with(|namespace, _| Ok(f(namespace.worker(self.id)?)))
    }

    /// Changes the worker's record.
    fn change(&self, f: impl FnOnce(&mut WorkerRec)) -> Result<()> {
        self.with(|namespace, _| {
            f(namespace.worker_mut(self.id)?);
            Ok(())
        })
    }

    /// Handles to workers of this namespace, in name order.
    fn handles(&self, namespace: &NamespaceState, ids: &BTreeSet<Id>) -> Vec<Arc<dyn Worker>> {
        let mut found: Vec<(Arc<str>, Id)> = ids
            .iter()
            .filter_map(|id| Some((namespace.workers.get(id)?.name.clone(), *id)))
            .collect();
        found.sort_unstable();
        found
            .into_iter()
            .map(|(name, id)| Arc::new(self.namespace.worker_handle(id, name)) as Arc<dyn Worker>)
            .collect()
    }
}

impl Worker for MemWorker {
    fn name(&self) -> &str {
        &self.name
    }

    fn parent(&self) -> Result<Option<Arc<dyn Worker>>> {
        self.with(|namespace, _| {
            let Some(parent) = namespace.worker(self.id)?.parent else {
                return Ok(None);
            };
            let name = namespace.worker(parent)?.name.clone();
            Ok(Some(
                Arc::new(self.namespace.worker_handle(parent, name)) as Arc<dyn Worker>
            ))
        })
    }

    fn set_parent(&self, parent: Option<Arc<dyn Worker>>) -> Result<()> {
        let parent = match &parent {
            None => None,
            Some(parent) => {
                let parent = downcast::<MemWorker>(parent.as_ref())?;
                validate_parent(
                    self.namespace.is_same(&parent.namespace),
                    parent.id == self.id,
                )?;
                Some(parent.id)
            }
        };
        self.with(|namespace, _| {
            if let Some(parent) = parent {
                namespace.worker(parent)?;
            }
            let worker = namespace.worker_mut(self.id)?;
            let old = std::mem::replace(&mut worker.parent, parent);
            if let Some(old) = old.and_then(|id| namespace.workers.get_mut(&id)) {
                old.children.remove(&self.id);
            }
            if let Some(new) = parent.and_then(|id| namespace.workers.get_mut(&id)) {
                new.children.insert(self.id);
            }
            Ok(())
        })
    }

    fn children(&self) -> Result<Vec<Arc<dyn Worker>>> {
        self.with(|namespace, _| Ok(self.handles(namespace, &namespace.worker(self.id)?.children)))
    }

    fn active(&self) -> Result<bool> {
        self.read(|worker| worker.active)
    }

    fn deactivate(&self) -> Result<()> {
        self.change(|worker| worker.active = false)
    }

    fn mode(&self) -> Result<String> {
        self.read(|worker| worker.mode.clone())
    }

    fn data(&self) -> Result<Data> {
        self.read(|worker| worker.data.clone())
    }

    fn expiration(&self) -> Result<DateTime<Utc>> {
        self.read(|worker| worker.expiration)
    }

    fn last_update(&self) -> Result<DateTime<Utc>> {
        self.read(|worker| worker.last_update)
    }

    fn update(
        &self,
        data: Data,
        now: DateTime<Utc>,
        expiration: DateTime<Utc>,
        mode: &str,
    ) -> Result<()> {
        validate_text("mode", mode)?;
        self.namespace.shared.check_data(&data)?;
        self.change(|worker| {
            worker.active = true;
            worker.data = data;
            worker.last_update = truncate_to_micros(now);
            worker.expiration = truncate_to_micros(expiration);
            worker.mode = mode.to_owned();
        })
    }

    fn request_attempts(&self, request: &AttemptRequest) -> Result<Vec<Arc<dyn Attempt>>> {
        self.claim(request)
    }

    fn make_attempt(
        &self,
        unit: Arc<dyn WorkUnit>,
        lifetime: Duration,
    ) -> Result<Arc<dyn Attempt>> {
        let unit = downcast::<MemWorkUnit>(unit.as_ref())?;
        validate_unit_namespace(self.namespace.is_same(&unit.spec.namespace))?;
        let id = self.with(|namespace, now| {
            let expiration = add_duration("lifetime", now, lifetime)?;
            namespace.unit(unit.spec.id, unit.id)?;
            Ok(namespace.add_attempt(unit.spec.id, unit.id, self.id, now, expiration, None))
        })?;
        Ok(Arc::new(MemAttempt {
            unit: unit.clone(),
            worker: self.clone(),
            id,
        }))
    }

    fn active_attempts(&self) -> Result<Vec<Arc<dyn Attempt>>> {
        self.with(|namespace, _| {
            let ids = namespace.worker(self.id)?.active_attempts.iter().copied();
            Ok(attempt_handles(&self.namespace, namespace, ids))
        })
    }

    fn all_attempts(&self) -> Result<Vec<Arc<dyn Attempt>>> {
        self.with(|namespace, _| {
            let ids = namespace.worker(self.id)?.all_attempts.iter().copied();
            Ok(attempt_handles(&self.namespace, namespace, ids))
        })
    }

    fn child_attempts(&self) -> Result<Vec<Arc<dyn Attempt>>> {
        self.with(|namespace, _| {
            let mut ids: Vec<Id> = namespace
                .worker(self.id)?
                .children
                .iter()
                .filter_map(|child| namespace.workers.get(child))
                .flat_map(|child| child.active_attempts.iter().copied())
                .collect();
            // Oldest first across all children, as ids grow with time.
            ids.sort_unstable();
            Ok(attempt_handles(&self.namespace, namespace, ids))
        })
    }
}
