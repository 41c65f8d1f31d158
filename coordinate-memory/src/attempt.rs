//! Attempts: the state of one attempt, its lifecycle, and the `Attempt`
//! trait.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use coordinate_api::backend::chaining::extract_output;
use coordinate_api::backend::lifecycle::{decide, Change, Request};
use coordinate_api::backend::validate::add_duration;
use coordinate_api::clock::truncate_to_micros;
use coordinate_api::{
    Attempt, AttemptStatus, Data, Error, ObjectKind, Result, Value, WorkUnit, Worker,
};

use crate::coordinate::Id;
use crate::namespace::{missing, named, MemNamespace, NamespaceState};
use crate::work_unit::MemWorkUnit;
use crate::worker::MemWorker;

/// One attempt.
pub(crate) struct AttemptRec {
    pub(crate) spec: Id,
    pub(crate) unit: Id,
    pub(crate) worker: Id,
    pub(crate) status: AttemptStatus,
    /// `None` until the worker gives the attempt data of its own; reads
    /// then fall back to the unit's data.
    pub(crate) data: Option<Data>,
    pub(crate) start: DateTime<Utc>,
    pub(crate) end: Option<DateTime<Utc>>,
    pub(crate) expiration: DateTime<Utc>,
}

/// Handles to existing attempts of a namespace, in the order given.
pub(crate) fn attempt_handles(
    namespace: &MemNamespace,
    state: &NamespaceState,
    ids: impl IntoIterator<Item = Id>,
) -> Vec<Arc<dyn Attempt>> {
    ids.into_iter()
        .filter_map(|id| {
            let attempt = state.attempts.get(&id)?;
            let spec = state.specs.get(&attempt.spec)?;
            let unit = spec.units.get(&attempt.unit)?;
            let worker = state.workers.get(&attempt.worker)?;
            Some(Arc::new(MemAttempt {
                unit: namespace
                    .spec_handle(attempt.spec, spec.name.clone())
                    .unit_handle(attempt.unit, unit.name.clone()),
                worker: namespace.worker_handle(attempt.worker, worker.name.clone()),
                id,
            }) as Arc<dyn Attempt>)
        })
        .collect()
}

impl NamespaceState {
    /// Carries out `request` on attempt `id` as `coordinate_api::backend::lifecycle`
    /// decides from its status and whether it is its unit's active attempt.
    pub(crate) fn change_attempt(
        &mut self,
        id: Id,
        request: Request,
        data: Option<Data>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let attempt = self.attempt(id)?;
        let (spec, unit, status) = (attempt.spec, attempt.unit, attempt.status);
        let active = self.unit(spec, unit)?.active == Some(id);
        let names = || -> Result<(Arc<str>, Arc<str>)> {
            Ok((
                self.spec(spec)?.name.clone(),
                self.unit(spec, unit)?.name.clone(),
            ))
        };
        let Some(effect) = decide(request.call(), status, active) else {
            let (spec, unit) = names()?;
            return Err(Error::not_pending(&*spec, &*unit));
        };
        let (spec_name, unit_name) = names()?;
        let output = if effect.chain {
            self.output(id, data.as_ref())
        } else {
            None
        };
        if let (true, Some(not_before)) = (effect.delay_unit, request.not_before()) {
            self.unit_mut(spec, unit)?.meta.not_before = Some(not_before);
        }
        match (effect.change, request.lease_end()) {
            (Change::Nothing, _) => {}
            (Change::DataOnly, _) => {
                if let (Some(data), Some(attempt)) = (data, self.attempts.get_mut(&id)) {
                    attempt.data = Some(data);
                }
            }
            (Change::Extend, Some(lease_end)) => self.renew_lease(id, lease_end, data, now)?,
            (Change::Extend, _) => unreachable!("only a renewal extends a lease"),
            (Change::End(status), _) => self.end_attempt(id, status, data, effect.release, now),
        }
        if let Some(output) = output {
            self.chain(spec, &output, now);
        }
        effect.outcome(&spec_name, &unit_name)
    }

    /// The `output` of the data a finishing attempt leaves behind: the data
    /// given, else the attempt's own, else its unit's.
    fn output(&self, id: Id, given: Option<&Data>) -> Option<Value> {
        let data = match given {
            Some(data) => data,
            None => {
                let attempt = self.attempts.get(&id)?;
                match &attempt.data {
                    Some(data) => data,
                    None => &self.unit(attempt.spec, attempt.unit).ok()?.data,
                }
            }
        };
        data.get("output").cloned()
    }

    /// Makes the units `output` names in the `then` work spec of `spec`,
    /// if that spec names one and it exists.
    fn chain(&mut self, spec: Id, output: &Value, now: DateTime<Utc>) {
        let Ok(spec) = self.spec(spec) else {
            return;
        };
        let Some(&next) = self.spec_ids.get(spec.meta.next_work_spec_name.as_str()) else {
            return;
        };
        for unit in extract_output(output, now) {
            // The names and priorities are valid (`extract_output` checks
            // them) and the spec exists, so this cannot fail.
            let _ = self.upsert_unit(next, &unit.name, unit.data, unit.meta, now);
        }
    }

    /// Renews a live, active attempt's lease until `expiration`.
    fn renew_lease(
        &mut self,
        id: Id,
        expiration: DateTime<Utc>,
        data: Option<Data>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let attempt = self
            .attempts
            .get_mut(&id)
            .ok_or_else(|| missing(ObjectKind::Attempt))?;
        if attempt.status == AttemptStatus::Pending {
            self.expiry.remove(&(attempt.expiration, id));
        }
        attempt.status = AttemptStatus::Pending;
        attempt.expiration = expiration;
        attempt.end = None;
        if data.is_some() {
            attempt.data = data;
        }
        let (spec, unit, worker) = (attempt.spec, attempt.unit, attempt.worker);
        self.expiry.insert((expiration, id));
        self.worker_mut(worker)?.active_attempts.insert(id);
        self.refile_unit(spec, unit, now)
    }
}

/// Handle to one attempt.
#[derive(Clone)]
pub(crate) struct MemAttempt {
    pub(crate) unit: MemWorkUnit,
    pub(crate) worker: MemWorker,
    pub(crate) id: Id,
}

impl MemAttempt {
    /// Runs `f` on the namespace state once the attempt is known to exist;
    /// [`Error::Gone`] otherwise.
    fn with<T>(
        &self,
        f: impl FnOnce(&mut NamespaceState, DateTime<Utc>) -> Result<T>,
    ) -> Result<T> {
        self.worker
            .namespace
            .with(|namespace, now| {
                namespace.attempt(self.id)?;
                f(namespace, now)
            })
            .map_err(|e| named(e, ObjectKind::Attempt, &self.unit.name))
    }

    /// Refuses data handed to a state change before anything happens.
    pub(crate) fn check(&self, data: &Option<Data>) -> Result<()> {
        data.as_ref()
            .map_or(Ok(()), |data| self.worker.namespace.shared.check_data(data))
    }

    /// Reads from the attempt's record; with `expire`, after expiring
    /// overdue attempts, so a lease that ran out shows.
    fn read<T>(&self, expire: bool, f: impl FnOnce(&AttemptRec) -> T) -> Result<T> {
        self.with(|namespace, now| {
            if expire {
                namespace.expire(now);
            }
            Ok(f(namespace.attempt(self.id)?))
        })
    }
}

impl Attempt for MemAttempt {
    fn work_unit(&self) -> Arc<dyn WorkUnit> {
        Arc::new(self.unit.clone())
    }

    fn worker(&self) -> Arc<dyn Worker> {
        Arc::new(self.worker.clone())
    }

    fn status(&self) -> Result<AttemptStatus> {
        self.read(true, |attempt| attempt.status)
    }

    fn data(&self) -> Result<Data> {
        self.with(|namespace, _| {
            let attempt = namespace.attempt(self.id)?;
            match &attempt.data {
                Some(data) => Ok(data.clone()),
                None => Ok(namespace.unit(attempt.spec, attempt.unit)?.data.clone()),
            }
        })
    }

    fn start_time(&self) -> Result<DateTime<Utc>> {
        self.read(false, |attempt| attempt.start)
    }

    fn end_time(&self) -> Result<Option<DateTime<Utc>>> {
        self.read(true, |attempt| attempt.end)
    }

    fn expiration_time(&self) -> Result<DateTime<Utc>> {
        self.read(false, |attempt| attempt.expiration)
    }

    fn renew(&self, extend: Duration, data: Option<Data>) -> Result<()> {
        self.check(&data)?;
        self.with(|namespace, now| {
            let expiration = add_duration("lease extension", now, extend)?;
            namespace.change_attempt(self.id, Request::Renew(expiration), data, now)
        })
    }

    fn expire(&self, data: Option<Data>) -> Result<()> {
        self.check(&data)?;
        self.with(|namespace, now| namespace.change_attempt(self.id, Request::Expire, data, now))
    }

    fn finish(&self, data: Option<Data>) -> Result<()> {
        self.check(&data)?;
        self.with(|namespace, now| namespace.change_attempt(self.id, Request::Finish, data, now))
    }

    fn fail(&self, data: Option<Data>) -> Result<()> {
        self.check(&data)?;
        self.with(|namespace, now| namespace.change_attempt(self.id, Request::Fail, data, now))
    }

    fn retry(&self, data: Option<Data>, delay: Duration) -> Result<()> {
        self.check(&data)?;
        self.with(|namespace, now| {
            let not_before = truncate_to_micros(add_duration("retry delay", now, delay)?);
            namespace.change_attempt(self.id, Request::Retry(not_before), data, now)
        })
    }
}
