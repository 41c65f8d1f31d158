//! Selecting work units with a `WorkUnitQuery`, and changing the
//! priorities of the units selected.

use std::ops::Bound;

use chrono::{DateTime, Utc};
use coordinate_api::{ObjectKind, Result, WorkUnitQuery};

use crate::coordinate::Id;
use crate::namespace::{missing, NamespaceState};
use crate::work_spec::SpecState;

impl SpecState {
    /// The units the query selects, in name order. Statuses must be
    /// current: expire and refresh first.
    ///
    /// With names given, only those names are looked up; otherwise the
    /// walk starts after `previous_name` and stops at `limit`, so paging
    /// through a large spec costs what each page holds.
    pub(crate) fn select(&self, query: &WorkUnitQuery) -> Vec<Id> {
        let limit = query.limit.unwrap_or(usize::MAX);
        let selected = |id: &Id| {
            self.units
                .get(id)
                .is_some_and(|unit| query.matches(&unit.name, unit.slot.status()))
        };
        if query.names.is_empty() {
            let start = match &query.previous_name {
                Some(previous) => Bound::Excluded(previous.as_str()),
                None => Bound::Unbounded,
            };
            self.unit_ids
                .range::<str, _>((start, Bound::Unbounded))
                .map(|(_, id)| *id)
                .filter(selected)
                .take(limit)
                .collect()
        } else {
            let mut names: Vec<&str> = query.names.iter().map(String::as_str).collect();
            names.sort_unstable();
            names.dedup();
            names
                .into_iter()
                .filter_map(|name| self.unit_ids.get(name).copied())
                .filter(selected)
                .take(limit)
                .collect()
        }
    }
}

impl NamespaceState {
    /// Sets each selected unit's priority to `priority(old priority)` and
    /// refiles it. Statuses must be current.
    pub(crate) fn change_priorities(
        &mut self,
        spec: Id,
        query: &WorkUnitQuery,
        now: DateTime<Utc>,
        priority: impl Fn(f64) -> f64,
    ) -> Result<()> {
        let NamespaceState {
            specs, attempts, ..
        } = self;
        let spec = specs
            .get_mut(&spec)
            .ok_or_else(|| missing(ObjectKind::WorkSpec))?;
        for id in spec.select(query) {
            if let Some(unit) = spec.units.get_mut(&id) {
                unit.meta.priority = priority(unit.meta.priority);
            }
            spec.reindex(attempts, id, now);
        }
        Ok(())
    }
}
