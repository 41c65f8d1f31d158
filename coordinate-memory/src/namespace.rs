//! Namespaces: the state of one namespace, and the `Namespace` trait.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use coordinate_api::backend::validate::validate_name;
use coordinate_api::{
    Attempt, Completion, Data, Error, Namespace, ObjectKind, PruneRequest, Pruned, Result, Summary,
    SummaryRecord, Wakeup, WorkSpec, WorkUnitStatus, Worker,
};

use crate::attempt::AttemptRec;
use crate::coordinate::{Id, IdMap, Shared};
use crate::work_spec::{definition, MemWorkSpec, SpecState};
use crate::worker::{MemWorker, WorkerRec};

/// Everything in one namespace. Attempts live here rather than under their
/// units because workers and expiry reach them across work specs.
pub(crate) struct NamespaceState {
    pub(crate) name: Arc<str>,
    last_id: Id,
    pub(crate) specs: IdMap<SpecState>,
    pub(crate) spec_ids: BTreeMap<Arc<str>, Id>,
    pub(crate) workers: IdMap<WorkerRec>,
    pub(crate) worker_ids: BTreeMap<Arc<str>, Id>,
    pub(crate) attempts: IdMap<AttemptRec>,
    /// Pending attempts by expiration time, so that expiry only looks at
    /// the attempts that are actually overdue.
    pub(crate) expiry: BTreeSet<(DateTime<Utc>, Id)>,
    /// How many times a pending attempt was taken from its worker
    /// (expired, its unit cleared, deleted or re-added), for
    /// `wait_for_cancellation`.
    pub(crate) taken: u64,
}

impl NamespaceState {
    /// How many times a unit of this namespace became available, summed
    /// over its specs (it changes whenever one more did).
    fn made_available(&self) -> u64 {
        self.specs
            .values()
            .fold(0, |sum, spec| sum.wrapping_add(spec.made_available))
    }

    /// What waiters watch: units made available, attempts taken away.
    fn watched(&self) -> (u64, u64) {
        (self.made_available(), self.taken)
    }
}

impl NamespaceState {
    pub(crate) fn new(name: Arc<str>) -> Self {
        NamespaceState {
            name,
            last_id: 0,
            specs: IdMap::default(),
            spec_ids: BTreeMap::new(),
            workers: IdMap::default(),
            worker_ids: BTreeMap::new(),
            attempts: IdMap::default(),
            expiry: BTreeSet::new(),
            taken: 0,
        }
    }

    /// A fresh id for something in this namespace.
    pub(crate) fn new_id(&mut self) -> Id {
        self.last_id += 1;
        self.last_id
    }

    /// The work spec with this id, or [`Error::Gone`].
    pub(crate) fn spec(&self, id: Id) -> Result<&SpecState> {
        self.specs
            .get(&id)
            .ok_or_else(|| missing(ObjectKind::WorkSpec))
    }

    /// The work spec with this id, or [`Error::Gone`].
    pub(crate) fn spec_mut(&mut self, id: Id) -> Result<&mut SpecState> {
        self.specs
            .get_mut(&id)
            .ok_or_else(|| missing(ObjectKind::WorkSpec))
    }

    /// The worker with this id, or [`Error::Gone`].
    pub(crate) fn worker(&self, id: Id) -> Result<&WorkerRec> {
        self.workers
            .get(&id)
            .ok_or_else(|| missing(ObjectKind::Worker))
    }

    /// The worker with this id, or [`Error::Gone`].
    pub(crate) fn worker_mut(&mut self, id: Id) -> Result<&mut WorkerRec> {
        self.workers
            .get_mut(&id)
            .ok_or_else(|| missing(ObjectKind::Worker))
    }

    /// The attempt with this id, or [`Error::Gone`].
    pub(crate) fn attempt(&self, id: Id) -> Result<&AttemptRec> {
        self.attempts
            .get(&id)
            .ok_or_else(|| missing(ObjectKind::Attempt))
    }

    /// Expires overdue attempts, then counts every work spec's units by
    /// status.
    pub(crate) fn summarize(&mut self, now: DateTime<Utc>) -> Summary {
        self.expire(now);
        let mut summary = Summary::new();
        for spec in self.specs.values_mut() {
            spec.refresh(now);
            summary.extend(spec.summary(&self.name));
        }
        summary
    }

    /// Deletes a work spec with its units and their attempts.
    fn remove_spec(&mut self, id: Id) {
        let Some(spec) = self.specs.remove(&id) else {
            return;
        };
        self.spec_ids.remove(&spec.name);
        for unit in spec.units.into_values() {
            for attempt in unit.attempts {
                self.forget_attempt(attempt);
            }
        }
    }
}

/// [`Error::Gone`] for a lookup by id that found nothing. The record is
/// gone, so its name is unknown here: the handle whose call this is names
/// it (see [`named`]) before the error leaves the crate.
pub(crate) fn missing(kind: ObjectKind) -> Error {
    Error::gone(kind, String::new())
}

/// Names a [`Error::Gone`] from inside a handle's call after that handle,
/// as the API documents; every other error passes through.
pub(crate) fn named(error: Error, kind: ObjectKind, name: &str) -> Error {
    match error {
        Error::Gone { .. } => Error::gone(kind, name),
        other => other,
    }
}

/// Builds a [`SummaryRecord`].
pub(crate) fn record(
    namespace: &str,
    work_spec: &str,
    status: WorkUnitStatus,
    count: usize,
) -> SummaryRecord {
    SummaryRecord {
        namespace: namespace.to_owned(),
        work_spec: work_spec.to_owned(),
        status,
        count,
    }
}

/// Handle to one namespace: its id and name, and the shared state.
#[derive(Clone)]
pub(crate) struct MemNamespace {
    pub(crate) shared: Arc<Shared>,
    pub(crate) id: Id,
    pub(crate) name: Arc<str>,
    /// The `taken` count this handle's last `wait_for_cancellation` saw,
    /// so that an attempt taken between two waits wakes the next one (as
    /// PostgreSQL's listener keeps a notification until it is read).
    /// Shared by clones of the handle.
    cancellations_seen: Arc<std::sync::Mutex<Option<u64>>>,
}

impl MemNamespace {
    /// Whether `other` is this namespace: the same id in the same store. A
    /// handle of another coordinate is refused even when its namespace has
    /// the same id: the rule every call taking a second handle applies.
    pub(crate) fn is_same(&self, other: &MemNamespace) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared) && self.id == other.id
    }
}

impl MemNamespace {
    pub(crate) fn new(shared: Arc<Shared>, id: Id, name: Arc<str>) -> Self {
        MemNamespace {
            shared,
            id,
            name,
            cancellations_seen: Arc::default(),
        }
    }

    /// Runs `f` on this namespace's state under the store lock, with the
    /// clock's time; [`Error::Gone`] if the namespace was destroyed.
    pub(crate) fn with<T>(
        &self,
        f: impl FnOnce(&mut NamespaceState, DateTime<Utc>) -> Result<T>,
    ) -> Result<T> {
        let mut state = self.shared.lock();
        let now = self.shared.now();
        let namespace = state
            .namespaces
            .get_mut(&self.id)
            .ok_or_else(|| self.gone())?;
        // Counting costs a pass over the specs: only when someone waits.
        let before = self.shared.has_waiters().then(|| namespace.watched());
        let result = f(namespace, now);
        if before.is_some_and(|before| before != namespace.watched()) {
            self.shared.wake_waiters();
        }
        result.map_err(|e| named(e, ObjectKind::Namespace, &self.name))
    }

    /// `Namespace::wait_for_work` (with [`NamespaceState::made_available`])
    /// and `wait_for_cancellation` (with `taken`): sleeps on the store's
    /// condition variable until `count` of this namespace changed.
    /// `since` is the count to compare with (the count now if `None`);
    /// returns the count seen last too.
    fn wait(
        &self,
        timeout: Duration,
        count: fn(&NamespaceState) -> u64,
        since: Option<u64>,
    ) -> Result<(Wakeup, u64)> {
        let deadline = Instant::now() + timeout;
        let state = self.shared.lock();
        let now = count(state.namespaces.get(&self.id).ok_or_else(|| self.gone())?);
        let start = since.unwrap_or(now);
        let (state, timed_out) = self.shared.wait_until(state, deadline, |state| {
            state
                .namespaces
                .get(&self.id)
                .is_none_or(|namespace| count(namespace) != start)
        });
        let Some(namespace) = state.namespaces.get(&self.id) else {
            return Err(self.gone());
        };
        let wakeup = if timed_out {
            Wakeup::TimedOut
        } else {
            Wakeup::Woken
        };
        Ok((wakeup, count(namespace)))
    }

    /// [`Error::Gone`] naming this namespace.
    fn gone(&self) -> Error {
        Error::gone(ObjectKind::Namespace, &*self.name)
    }

    /// Like [`MemNamespace::with`], but a destroyed namespace gives the
    /// default value (for list calls, which return nothing then).
    fn with_or_default<T: Default>(
        &self,
        f: impl FnOnce(&mut NamespaceState, DateTime<Utc>) -> T,
    ) -> T {
        self.with(|namespace, now| Ok(f(namespace, now)))
            .unwrap_or_default()
    }

    /// A handle to a work spec of this namespace.
    pub(crate) fn spec_handle(&self, id: Id, name: Arc<str>) -> MemWorkSpec {
        MemWorkSpec {
            namespace: self.clone(),
            id,
            name,
        }
    }

    /// A handle to a worker of this namespace.
    pub(crate) fn worker_handle(&self, id: Id, name: Arc<str>) -> MemWorker {
        MemWorker {
            namespace: self.clone(),
            id,
            name,
        }
    }
}

impl Namespace for MemNamespace {
    fn name(&self) -> &str {
        &self.name
    }

    fn destroy(&self) -> Result<()> {
        let mut state = self.shared.lock();
        if state.namespaces.remove(&self.id).is_some() {
            state.namespace_ids.remove(&self.name);
        }
        Ok(())
    }

    fn set_work_spec(&self, data: Data) -> Result<Arc<dyn WorkSpec>> {
        let (name, meta) = definition(&data)?;
        self.shared.check_data(&data)?;
        let (id, name) = self.with(|namespace, now| {
            if let Some((name, &id)) = namespace.spec_ids.get_key_value(name.as_str()) {
                let name = name.clone();
                namespace.spec_mut(id)?.redefine(data, meta, now);
                return Ok((id, name));
            }
            let id = namespace.new_id();
            let name: Arc<str> = Arc::from(name);
            namespace
                .specs
                .insert(id, SpecState::new(name.clone(), data, meta));
            namespace.spec_ids.insert(name.clone(), id);
            Ok((id, name))
        })?;
        Ok(Arc::new(self.spec_handle(id, name)))
    }

    fn work_spec(&self, name: &str) -> Result<Arc<dyn WorkSpec>> {
        let (id, name) = self.with(|namespace, _| {
            namespace
                .spec_ids
                .get_key_value(name)
                .map(|(name, &id)| (id, name.clone()))
                .ok_or_else(|| Error::no_such_work_spec(name))
        })?;
        Ok(Arc::new(self.spec_handle(id, name)))
    }

    fn destroy_work_spec(&self, name: &str) -> Result<()> {
        self.with(|namespace, _| {
            let id = *namespace
                .spec_ids
                .get(name)
                .ok_or_else(|| Error::no_such_work_spec(name))?;
            namespace.remove_spec(id);
            Ok(())
        })
    }

    fn work_spec_names(&self) -> Result<Vec<String>> {
        Ok(self.with_or_default(|namespace, _| {
            namespace
                .spec_ids
                .keys()
                .map(|name| name.to_string())
                .collect()
        }))
    }

    fn worker(&self, name: &str) -> Result<Arc<dyn Worker>> {
        validate_name("worker name", name)?;
        let (id, name) = self.with(|namespace, now| {
            if let Some((name, &id)) = namespace.worker_ids.get_key_value(name) {
                return Ok((id, name.clone()));
            }
            let id = namespace.new_id();
            let name: Arc<str> = Arc::from(name);
            namespace
                .workers
                .insert(id, WorkerRec::new(name.clone(), now)?);
            namespace.worker_ids.insert(name.clone(), id);
            Ok((id, name))
        })?;
        Ok(Arc::new(self.worker_handle(id, name)))
    }

    fn workers(&self) -> Result<Vec<Arc<dyn Worker>>> {
        let workers: Vec<(Id, Arc<str>)> = self.with_or_default(|namespace, _| {
            namespace
                .worker_ids
                .iter()
                .map(|(name, &id)| (id, name.clone()))
                .collect()
        });
        Ok(workers
            .into_iter()
            .map(|(id, name)| Arc::new(self.worker_handle(id, name)) as Arc<dyn Worker>)
            .collect())
    }

    fn summarize(&self) -> Result<Summary> {
        Ok(coordinate_api::summary::normalize_summary(
            self.with_or_default(|namespace, now| namespace.summarize(now)),
        ))
    }

    fn prune(&self, request: &PruneRequest) -> Result<Pruned> {
        self.prune_or_count(request, true)
    }

    fn count_prunable(&self, request: &PruneRequest) -> Result<Pruned> {
        self.prune_or_count(request, false)
    }

    fn complete_attempts(&self, batch: &[Completion]) -> Result<Vec<Result<()>>> {
        self.complete(batch)
    }

    fn wait_for_work(&self, timeout: Duration) -> Result<Wakeup> {
        Ok(self.wait(timeout, NamespaceState::made_available, None)?.0)
    }

    fn wait_for_cancellation(&self, timeout: Duration) -> Result<Wakeup> {
        let mut seen = self
            .cancellations_seen
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let (wakeup, now) = self.wait(timeout, |namespace| namespace.taken, *seen)?;
        *seen = Some(now);
        Ok(wakeup)
    }

    fn renew_attempts(
        &self,
        attempts: &[Arc<dyn Attempt>],
        extend: Duration,
    ) -> Result<Vec<Result<()>>> {
        self.renew_all(attempts, extend)
    }
}
