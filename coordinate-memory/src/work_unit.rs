//! Work units: the state of one unit, adding and deleting units, and the
//! `WorkUnit` trait.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use coordinate_api::backend::validate::validate_priority;
use coordinate_api::clock::truncate_to_micros;
use coordinate_api::status::derive_work_unit_status;
use coordinate_api::{
    Attempt, Data, ObjectKind, Result, WorkSpec, WorkUnit, WorkUnitMeta, WorkUnitStatus,
};

use crate::attempt::attempt_handles;
use crate::available::Slot;
use crate::coordinate::Id;
use crate::namespace::{missing, named, NamespaceState};
use crate::work_spec::MemWorkSpec;

/// One work unit.
pub(crate) struct UnitRec {
    pub(crate) name: Arc<str>,
    pub(crate) data: Data,
    pub(crate) meta: WorkUnitMeta,
    /// The attempt that decides the unit's status.
    pub(crate) active: Option<Id>,
    /// Every attempt on the unit, oldest first.
    pub(crate) attempts: Vec<Id>,
    /// Where the spec's index files the unit.
    pub(crate) slot: Slot,
}

/// A unit's meta as stored: times at microsecond precision.
fn stored_meta(meta: WorkUnitMeta) -> WorkUnitMeta {
    WorkUnitMeta {
        priority: meta.priority,
        not_before: meta.not_before.map(truncate_to_micros),
    }
}

impl NamespaceState {
    /// Adds a unit to a spec, or replaces the data and meta of the unit of
    /// that name and clears its active attempt. Returns its id and name.
    /// The name and priority must already be valid.
    pub(crate) fn upsert_unit(
        &mut self,
        spec: Id,
        name: &str,
        data: Data,
        meta: WorkUnitMeta,
        now: DateTime<Utc>,
    ) -> Result<(Id, Arc<str>)> {
        let existing = self
            .spec(spec)?
            .unit_ids
            .get_key_value(name)
            .map(|(name, &id)| (id, name.clone()));
        let (id, name, new) = match existing {
            Some((id, name)) => (id, name, false),
            None => (self.new_id(), Arc::from(name), true),
        };
        let NamespaceState {
            specs,
            attempts,
            taken,
            ..
        } = self;
        let spec = specs
            .get_mut(&spec)
            .ok_or_else(|| missing(ObjectKind::WorkSpec))?;
        let meta = stored_meta(meta);
        if new {
            spec.units.insert(
                id,
                UnitRec {
                    name: name.clone(),
                    data,
                    meta,
                    active: None,
                    attempts: Vec::new(),
                    slot: Slot::Unfiled,
                },
            );
            spec.unit_ids.insert(name.clone(), id);
        } else if let Some(unit) = spec.units.get_mut(&id) {
            unit.data = data;
            unit.meta = meta;
            // Re-adding takes the unit from whoever holds it.
            if unit.active.take().is_some() {
                *taken = taken.wrapping_add(1);
            }
        }
        spec.reindex(attempts, id, now);
        Ok((id, name))
    }

    /// Deletes a unit with its attempts.
    pub(crate) fn remove_unit(&mut self, spec: Id, unit: Id) {
        let Some(spec) = self.specs.get_mut(&spec) else {
            return;
        };
        let Some(rec) = spec.units.remove(&unit) else {
            return;
        };
        spec.unit_ids.remove(&rec.name);
        spec.index.file(&rec.name, unit, rec.slot, Slot::Unfiled);
        if rec.active.is_some() {
            self.taken = self.taken.wrapping_add(1);
        }
        for attempt in rec.attempts {
            self.forget_attempt(attempt);
        }
    }
}

/// Unit lookups of a namespace.
impl NamespaceState {
    /// The unit with this id in this spec, or [`Error::Gone`].
    pub(crate) fn unit(&self, spec: Id, unit: Id) -> Result<&UnitRec> {
        self.spec(spec)?
            .units
            .get(&unit)
            .ok_or_else(|| missing(ObjectKind::WorkUnit))
    }

    /// The unit with this id in this spec, or [`Error::Gone`].
    pub(crate) fn unit_mut(&mut self, spec: Id, unit: Id) -> Result<&mut UnitRec> {
        self.spec_mut(spec)?
            .units
            .get_mut(&unit)
            .ok_or_else(|| missing(ObjectKind::WorkUnit))
    }

    /// Changes a unit with `change`, then refiles it.
    fn change_unit(
        &mut self,
        spec: Id,
        unit: Id,
        now: DateTime<Utc>,
        change: impl FnOnce(&mut UnitRec),
    ) -> Result<()> {
        change(self.unit_mut(spec, unit)?);
        self.refile_unit(spec, unit, now)
    }

    /// Puts a unit back in the right available/delayed set of its spec
    /// after its active attempt or not-before time changed.
    pub(crate) fn refile_unit(&mut self, spec: Id, unit: Id, now: DateTime<Utc>) -> Result<()> {
        let NamespaceState {
            specs, attempts, ..
        } = self;
        specs
            .get_mut(&spec)
            .ok_or_else(|| missing(ObjectKind::WorkSpec))?
            .reindex(attempts, unit, now);
        Ok(())
    }
}

/// Handle to one work unit.
#[derive(Clone)]
pub(crate) struct MemWorkUnit {
    pub(crate) spec: MemWorkSpec,
    pub(crate) id: Id,
    pub(crate) name: Arc<str>,
}

impl MemWorkUnit {
    /// Runs `f` on the namespace state once the unit is known to exist;
    /// [`Error::Gone`] otherwise.
    fn with<T>(
        &self,
        f: impl FnOnce(&mut NamespaceState, DateTime<Utc>) -> Result<T>,
    ) -> Result<T> {
        self.spec
            .namespace
            .with(|namespace, now| {
                namespace.unit(self.spec.id, self.id)?;
                f(namespace, now)
            })
            .map_err(|e| named(e, ObjectKind::WorkUnit, &self.name))
    }

    /// Like [`MemWorkUnit::with`], after expiring overdue attempts (for
    /// reads that depend on the active attempt).
    fn with_current<T>(
        &self,
        f: impl FnOnce(&mut NamespaceState, DateTime<Utc>) -> Result<T>,
    ) -> Result<T> {
        self.with(|namespace, now| {
            namespace.expire(now);
            f(namespace, now)
        })
    }
}

impl WorkUnit for MemWorkUnit {
    fn name(&self) -> &str {
        &self.name
    }

    fn work_spec(&self) -> Arc<dyn WorkSpec> {
        Arc::new(self.spec.clone())
    }

    fn data(&self) -> Result<Data> {
        self.with_current(|namespace, _| {
            let unit = namespace.unit(self.spec.id, self.id)?;
            let attempt_data = unit
                .active
                .and_then(|id| namespace.attempts.get(&id))
                .and_then(|attempt| attempt.data.as_ref());
            Ok(attempt_data.unwrap_or(&unit.data).clone())
        })
    }

    fn status(&self) -> Result<WorkUnitStatus> {
        self.with_current(|namespace, now| {
            let unit = namespace.unit(self.spec.id, self.id)?;
            let active = unit
                .active
                .and_then(|id| namespace.attempts.get(&id))
                .map(|attempt| attempt.status);
            Ok(derive_work_unit_status(active, unit.meta.not_before, now))
        })
    }

    fn meta(&self) -> Result<WorkUnitMeta> {
        self.with(|namespace, _| Ok(namespace.unit(self.spec.id, self.id)?.meta))
    }

    fn set_meta(&self, meta: WorkUnitMeta) -> Result<()> {
        validate_priority("priority", meta.priority)?;
        self.with(|namespace, now| {
            namespace.change_unit(self.spec.id, self.id, now, |unit| {
                unit.meta = stored_meta(meta);
            })
        })
    }

    fn priority(&self) -> Result<f64> {
        Ok(self.meta()?.priority)
    }

    fn set_priority(&self, priority: f64) -> Result<()> {
        validate_priority("priority", priority)?;
        self.with(|namespace, now| {
            namespace.change_unit(self.spec.id, self.id, now, |unit| {
                unit.meta.priority = priority;
            })
        })
    }

    fn active_attempt(&self) -> Result<Option<Arc<dyn Attempt>>> {
        self.with_current(|namespace, _| {
            let active = namespace.unit(self.spec.id, self.id)?.active;
            Ok(attempt_handles(&self.spec.namespace, namespace, active).pop())
        })
    }

    fn clear_active_attempt(&self) -> Result<()> {
        self.with(|namespace, now| {
            if namespace.unit(self.spec.id, self.id)?.active.is_some() {
                namespace.taken = namespace.taken.wrapping_add(1);
            }
            namespace.change_unit(self.spec.id, self.id, now, |unit| unit.active = None)
        })
    }

    fn attempts(&self) -> Result<Vec<Arc<dyn Attempt>>> {
        self.with(|namespace, _| {
            let unit = namespace.unit(self.spec.id, self.id)?;
            Ok(attempt_handles(
                &self.spec.namespace,
                namespace,
                unit.attempts.iter().copied(),
            ))
        })
    }

    fn num_attempts(&self) -> Result<usize> {
        self.with(|namespace, _| Ok(namespace.unit(self.spec.id, self.id)?.attempts.len()))
    }
}
