//! Work specs: the state of one work spec, and the `WorkSpec` trait.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use coordinate_api::backend::validate::{
    validate_interval, validate_name, validate_priority, validate_work_unit_batch,
};
use coordinate_api::backend::work_spec_data::extract_work_spec_meta;
use coordinate_api::clock::truncate_to_micros;
use coordinate_api::status::derive_work_unit_status;
use coordinate_api::summary::normalize_summary;
use coordinate_api::{
    Data, Error, NewWorkUnit, ObjectKind, Result, Summary, WorkSpec, WorkSpecMeta, WorkUnit,
    WorkUnitMeta, WorkUnitQuery, WorkUnitStatus,
};

use crate::attempt::AttemptRec;
use crate::available::{Slot, UnitIndex};
use crate::coordinate::{Id, IdMap};
use crate::namespace::{named, record, MemNamespace, NamespaceState};
use crate::work_unit::{MemWorkUnit, UnitRec};

/// One work spec: its definition, its metadata and its units.
pub(crate) struct SpecState {
    pub(crate) name: Arc<str>,
    data: Data,
    /// Scheduling metadata; the counts in it are always 0 (they are read
    /// from `index`).
    pub(crate) meta: WorkSpecMeta,
    pub(crate) units: IdMap<UnitRec>,
    pub(crate) unit_ids: BTreeMap<Arc<str>, Id>,
    pub(crate) index: UnitIndex,
    /// How many times a unit of this spec became available; waiters in
    /// `wait_for_work` watch the namespace's sum.
    pub(crate) made_available: u64,
}

impl SpecState {
    pub(crate) fn new(name: Arc<str>, data: Data, meta: WorkSpecMeta) -> Self {
        SpecState {
            name,
            data,
            meta,
            units: IdMap::default(),
            unit_ids: BTreeMap::new(),
            index: UnitIndex::default(),
            made_available: 0,
        }
    }

    /// Replaces the definition and the metadata derived from it, keeping a
    /// next-continuous time that is still in the future.
    pub(crate) fn redefine(&mut self, data: Data, mut meta: WorkSpecMeta, now: DateTime<Utc>) {
        meta.next_continuous = self.meta.next_continuous.filter(|next| *next > now);
        self.data = data;
        self.meta = meta;
    }

    /// Records a change to the spec's scheduling (un-paused, a limit
    /// raised) that may let waiting units be claimed: waiters wake, as
    /// for a unit made available.
    pub(crate) fn rescheduled(&mut self) {
        self.made_available = self.made_available.wrapping_add(1);
    }

    /// Files a unit under the slot its current state calls for.
    pub(crate) fn reindex(&mut self, attempts: &IdMap<AttemptRec>, unit: Id, now: DateTime<Utc>) {
        let Some(rec) = self.units.get_mut(&unit) else {
            return;
        };
        let active = rec
            .active
            .and_then(|id| attempts.get(&id))
            .map(|attempt| attempt.status);
        let status = derive_work_unit_status(active, rec.meta.not_before, now);
        let slot = Slot::new(status, rec.meta.priority, rec.meta.not_before);
        if matches!(slot, Slot::Available { .. }) && !matches!(rec.slot, Slot::Available { .. }) {
            self.made_available = self.made_available.wrapping_add(1);
        }
        self.index.file(&rec.name, unit, rec.slot, slot);
        rec.slot = slot;
    }

    /// Moves delayed units whose time came to available (see
    /// [`UnitIndex::refresh`]).
    pub(crate) fn refresh(&mut self, now: DateTime<Utc>) {
        for (id, slot) in self.index.refresh(now) {
            if let Some(unit) = self.units.get_mut(&id) {
                unit.slot = slot;
            }
        }
    }

    /// The metadata with counts (after expiry and refresh).
    pub(crate) fn meta_with_counts(&self) -> WorkSpecMeta {
        let mut meta = self.meta.clone();
        meta.available_count = self.index.count(WorkUnitStatus::Available);
        meta.pending_count = self.index.count(WorkUnitStatus::Pending);
        meta
    }

    /// Unit counts per status, leaving out zeros (after expiry and refresh).
    pub(crate) fn status_counts(&self) -> BTreeMap<WorkUnitStatus, usize> {
        WorkUnitStatus::ALL
            .into_iter()
            .map(|status| (status, self.index.count(status)))
            .filter(|(_, count)| *count > 0)
            .collect()
    }

    /// This spec's summary records (after expiry and refresh).
    pub(crate) fn summary(&self, namespace: &str) -> Summary {
        self.status_counts()
            .into_iter()
            .map(|(status, count)| record(namespace, &self.name, status, count))
            .collect()
    }
}

/// Checks a definition and derives its name and metadata, at the
/// precision the PostgreSQL backend stores (so both agree).
pub(crate) fn definition(data: &Data) -> Result<(String, WorkSpecMeta)> {
    let (name, mut meta) = extract_work_spec_meta(data)?;
    meta.interval = truncate_duration(meta.interval);
    Ok((name, meta))
}

/// A duration at microsecond precision, as the PostgreSQL backend stores it.
fn truncate_duration(duration: Duration) -> Duration {
    Duration::new(duration.as_secs(), duration.subsec_micros() * 1_000)
}

/// Handle to one work spec.
#[derive(Clone)]
pub(crate) struct MemWorkSpec {
    pub(crate) namespace: MemNamespace,
    pub(crate) id: Id,
    pub(crate) name: Arc<str>,
}

impl MemWorkSpec {
    /// Runs `f` on the namespace state once the spec is known to exist;
    /// [`Error::Gone`] otherwise.
    pub(crate) fn with<T>(
        &self,
        f: impl FnOnce(&mut NamespaceState, DateTime<Utc>) -> Result<T>,
    ) -> Result<T> {
        self.namespace
            .with(|namespace, now| {
                namespace.spec(self.id)?;
                f(namespace, now)
            })
            .map_err(|e| named(e, ObjectKind::WorkSpec, &self.name))
    }

    /// Like [`MemWorkSpec::with`], after expiring overdue attempts and
    /// bringing this spec's delayed units up to date, so statuses are
    /// current.
    pub(crate) fn with_current<T>(
        &self,
        f: impl FnOnce(&mut NamespaceState, DateTime<Utc>) -> Result<T>,
    ) -> Result<T> {
        self.with(|namespace, now| {
            namespace.expire(now);
            namespace.spec_mut(self.id)?.refresh(now);
            f(namespace, now)
        })
    }

    /// A handle to a unit of this spec.
    pub(crate) fn unit_handle(&self, id: Id, name: Arc<str>) -> MemWorkUnit {
        MemWorkUnit {
            spec: self.clone(),
            id,
            name,
        }
    }
}

impl WorkSpec for MemWorkSpec {
    fn name(&self) -> &str {
        &self.name
    }

    fn data(&self) -> Result<Data> {
        self.with(|namespace, _| Ok(namespace.spec(self.id)?.data.clone()))
    }

    fn set_data(&self, data: Data) -> Result<()> {
        let (name, meta) = definition(&data)?;
        if name != *self.name {
            return Err(Error::ChangedName);
        }
        self.namespace.shared.check_data(&data)?;
        self.with(|namespace, now| {
            let spec = namespace.spec_mut(self.id)?;
            spec.redefine(data, meta, now);
            spec.rescheduled();
            Ok(())
        })
    }

    fn meta(&self, with_counts: bool) -> Result<WorkSpecMeta> {
        if !with_counts {
            return self.with(|namespace, _| Ok(namespace.spec(self.id)?.meta.clone()));
        }
        self.with_current(|namespace, _| Ok(namespace.spec(self.id)?.meta_with_counts()))
    }

    fn set_meta(&self, meta: WorkSpecMeta) -> Result<()> {
        validate_interval(meta.interval)?;
        self.with(|namespace, _| {
            let spec = namespace.spec_mut(self.id)?;
            if meta.continuous && !spec.meta.can_be_continuous {
                return Err(Error::CannotBecomeContinuous);
            }
            let kept = &mut spec.meta;
            kept.priority = meta.priority;
            kept.weight = meta.weight;
            kept.paused = meta.paused;
            kept.continuous = meta.continuous;
            kept.interval = truncate_duration(meta.interval);
            kept.next_continuous = meta.next_continuous.map(truncate_to_micros);
            kept.max_running = meta.max_running;
            kept.max_attempts_returned = meta.max_attempts_returned;
            kept.max_retries = meta.max_retries;
            spec.rescheduled();
            Ok(())
        })
    }

    fn add_work_unit(
        &self,
        name: &str,
        data: Data,
        meta: WorkUnitMeta,
    ) -> Result<Arc<dyn WorkUnit>> {
        validate_name("work unit name", name)?;
        validate_priority("priority", meta.priority)?;
        self.namespace.shared.check_data(&data)?;
        let (id, name) =
            self.with(|namespace, now| namespace.upsert_unit(self.id, name, data, meta, now))?;
        Ok(Arc::new(self.unit_handle(id, name)))
    }

    fn add_work_units(&self, units: Vec<NewWorkUnit>) -> Result<usize> {
        let shared = &self.namespace.shared;
        let units = validate_work_unit_batch(units, |unit| shared.check_data(&unit.data))?;
        // One critical section: other callers see all of the batch or none.
        self.with(|namespace, now| {
            let written = units.len();
            for unit in units {
                namespace.upsert_unit(self.id, &unit.name, unit.data, unit.meta, now)?;
            }
            Ok(written)
        })
    }

    fn work_unit(&self, name: &str) -> Result<Arc<dyn WorkUnit>> {
        let (id, name) = self.with(|namespace, _| {
            namespace
                .spec(self.id)?
                .unit_ids
                .get_key_value(name)
                .map(|(name, &id)| (id, name.clone()))
                .ok_or_else(|| Error::no_such_work_unit(name))
        })?;
        Ok(Arc::new(self.unit_handle(id, name)))
    }

    fn work_units(&self, query: &WorkUnitQuery) -> Result<Vec<Arc<dyn WorkUnit>>> {
        let units = self.with_current(|namespace, _| {
            let spec = namespace.spec(self.id)?;
            Ok(spec
                .select(query)
                .into_iter()
                .filter_map(|id| Some((id, spec.units.get(&id)?.name.clone())))
                .collect::<Vec<_>>())
        })?;
        Ok(units
            .into_iter()
            .map(|(id, name)| Arc::new(self.unit_handle(id, name)) as Arc<dyn WorkUnit>)
            .collect())
    }

    fn count_work_unit_status(&self) -> Result<BTreeMap<WorkUnitStatus, usize>> {
        self.with_current(|namespace, _| Ok(namespace.spec(self.id)?.status_counts()))
    }

    fn set_work_unit_priorities(&self, query: &WorkUnitQuery, priority: f64) -> Result<()> {
        validate_priority("priority", priority)?;
        self.with_current(|namespace, now| {
            namespace.change_priorities(self.id, query, now, |_| priority)
        })
    }

    fn adjust_work_unit_priorities(&self, query: &WorkUnitQuery, adjustment: f64) -> Result<()> {
        validate_priority("priority", adjustment)?;
        self.with_current(|namespace, now| {
            namespace.change_priorities(self.id, query, now, |old| old + adjustment)
        })
    }

    fn delete_work_units(&self, query: &WorkUnitQuery) -> Result<usize> {
        self.with_current(|namespace, _| {
            let selected = namespace.spec(self.id)?.select(query);
            for &unit in &selected {
                namespace.remove_unit(self.id, unit);
            }
            Ok(selected.len())
        })
    }

    fn summarize(&self) -> Result<Summary> {
        self.with_current(|namespace, _| {
            Ok(normalize_summary(
                namespace.spec(self.id)?.summary(&namespace.name),
            ))
        })
    }
}
