//! History retention: `Namespace::prune` and `count_prunable`, by the
//! rules of `coordinate_api::retention`.

use chrono::{DateTime, Utc};
use coordinate_api::retention::Retention;
use coordinate_api::status::derive_work_unit_status;
use coordinate_api::{Error, PruneRequest, Pruned, Result};

use crate::coordinate::Id;
use crate::namespace::{MemNamespace, NamespaceState};

impl NamespaceState {
    /// The units `rules` selects, at most `limit`, as (spec, unit) ids, in
    /// the order PostgreSQL takes them: by status as the rules list them,
    /// then work spec name, then oldest end first (then unit name).
    /// [`Error::NoSuchWorkSpec`] for the first named spec missing.
    fn prunable_units(
        &self,
        rules: &Retention,
        limit: usize,
        now: DateTime<Utc>,
    ) -> Result<Vec<(Id, Id)>> {
        if let Some(missing) = rules
            .work_specs
            .iter()
            .find(|name| !self.spec_ids.contains_key(name.as_str()))
        {
            return Err(Error::no_such_work_spec(missing));
        }
        let mut found = Vec::new();
        for &(status, _) in &rules.units {
            for (name, &spec_id) in &self.spec_ids {
                if found.len() == limit {
                    return Ok(found);
                }
                let Some(spec) = self
                    .specs
                    .get(&spec_id)
                    .filter(|_| rules.selects_spec(name))
                else {
                    continue;
                };
                let mut oldest: Vec<(DateTime<Utc>, &str, Id)> = spec
                    .units
                    .iter()
                    .filter_map(|(&unit_id, unit)| {
                        let attempt = self.attempts.get(&unit.active?)?;
                        let derived = derive_work_unit_status(
                            Some(attempt.status),
                            unit.meta.not_before,
                            now,
                        );
                        let end = attempt.end?;
                        (derived == status && rules.unit_goes(derived, Some(end))).then_some((
                            end,
                            &*unit.name,
                            unit_id,
                        ))
                    })
                    .collect();
                oldest.sort_unstable();
                let room = limit - found.len();
                found.extend(
                    oldest
                        .into_iter()
                        .take(room)
                        .map(|(_, _, unit)| (spec_id, unit)),
                );
            }
        }
        Ok(found)
    }

    /// The workers `rules` selects as they stand, at most `limit`, in
    /// name order.
    fn prunable_workers(&self, rules: &Retention, limit: usize) -> Vec<Id> {
        self.worker_ids
            .values()
            .copied()
            .filter(|id| {
                self.workers
                    .get(id)
                    .is_some_and(|worker| worker.goes(rules))
            })
            .take(limit)
            .collect()
    }

    /// Deletes a worker that has no attempts; its children lose their
    /// parent (as PostgreSQL's `ON DELETE SET NULL` does).
    fn remove_worker(&mut self, id: Id) {
        let Some(worker) = self.workers.remove(&id) else {
            return;
        };
        self.worker_ids.remove(&worker.name);
        if let Some(parent) = worker.parent.and_then(|p| self.workers.get_mut(&p)) {
            parent.children.remove(&id);
        }
        for child in worker.children {
            if let Some(child) = self.workers.get_mut(&child) {
                child.parent = None;
            }
        }
    }

    /// What `rules` selects, deleted when `delete` is set, else counted.
    fn prune(&mut self, rules: &Retention, delete: bool, now: DateTime<Utc>) -> Result<Pruned> {
        let units = self.prunable_units(rules, rules.limit, now)?;
        if delete {
            for &(spec, unit) in &units {
                self.remove_unit(spec, unit);
            }
        }
        // Workers after units, so that one whose last attempts just went
        // goes in the same call, as in PostgreSQL.
        let workers = self.prunable_workers(rules, rules.limit - units.len());
        if delete {
            for &worker in &workers {
                self.remove_worker(worker);
            }
        }
        Ok(Pruned {
            work_units: units.len(),
            workers: workers.len(),
        })
    }
}

impl MemNamespace {
    /// `Namespace::prune` (`delete`) or `Namespace::count_prunable`: one
    /// critical section, so the answer is exact.
    pub(crate) fn prune_or_count(&self, request: &PruneRequest, delete: bool) -> Result<Pruned> {
        let rules = request.validate()?;
        let pruned = self.with(|namespace, now| namespace.prune(&rules, delete, now))?;
        if delete {
            tracing::debug!(
                namespace = %self.name,
                work_units = pruned.work_units,
                workers = pruned.workers,
                "pruned history"
            );
        }
        Ok(pruned)
    }
}
