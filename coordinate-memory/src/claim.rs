//! Handing out work: `Worker::request_attempts`, and making attempts.
//!
//! A request expires overdue attempts, reads each admissible work spec's
//! metadata with its available and pending counts (kept by the spec's
//! index, so no unit is looked at), lets `coordinate_api`'s scheduler pick
//! a spec, then takes the best available units from the front of that
//! spec's index: O(log n) per unit handed out. The store lock is held
//! throughout, so no unit can be handed out twice.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use coordinate_api::backend::scheduler::{
    self, batch_size, can_start_continuous, choose_work_spec, claim_rounds, continuous_unit_name,
    request_admits, retries_exhausted, too_many_retries_data, Round,
};
use coordinate_api::backend::validate::add_duration;
use coordinate_api::{
    Attempt, AttemptRequest, AttemptStatus, Data, Result, WorkSpecMeta, WorkUnitMeta,
};

use crate::attempt::{AttemptRec, MemAttempt};
use crate::coordinate::Id;
use crate::namespace::NamespaceState;
use crate::worker::MemWorker;

impl NamespaceState {
    /// Makes an attempt by `worker` on a unit and makes it the unit's
    /// active attempt. With `failure`, the attempt is born failed with that
    /// data (a unit that used up its retries); otherwise it is pending
    /// until `expiration`.
    pub(crate) fn add_attempt(
        &mut self,
        spec: Id,
        unit: Id,
        worker: Id,
        now: DateTime<Utc>,
        expiration: DateTime<Utc>,
        failure: Option<Data>,
    ) -> Id {
        let id = self.new_id();
        let pending = failure.is_none();
        self.attempts.insert(
            id,
            AttemptRec {
                spec,
                unit,
                worker,
                status: if pending {
                    AttemptStatus::Pending
                } else {
                    AttemptStatus::Failed
                },
                data: failure,
                start: now,
                end: (!pending).then_some(now),
                expiration,
            },
        );
        if let Some(worker) = self.workers.get_mut(&worker) {
            worker.all_attempts.insert(id);
            if pending {
                worker.active_attempts.insert(id);
            }
        }
        if pending {
            self.expiry.insert((expiration, id));
        }
        if let Some(spec) = self.specs.get_mut(&spec) {
            if let Some(unit) = spec.units.get_mut(&unit) {
                unit.active = Some(id);
                unit.attempts.push(id);
            }
            spec.reindex(&self.attempts, unit, now);
        }
        id
    }

    /// The work specs the request admits that are not paused and have
    /// weight, with current counts.
    fn candidates(&mut self, request: &AttemptRequest, now: DateTime<Utc>) -> Vec<Candidate> {
        let mut candidates = Vec::new();
        for (name, id) in &self.spec_ids {
            let Some(spec) = self.specs.get_mut(id) else {
                continue;
            };
            if spec.meta.paused
                || spec.meta.weight <= 0
                || !request_admits(request, name, &spec.meta)
            {
                continue;
            }
            spec.refresh(now);
            candidates.push(Candidate {
                id: *id,
                name: name.clone(),
                meta: spec.meta_with_counts(),
            });
        }
        candidates
    }
}

/// A work spec the scheduler may choose.
struct Candidate {
    id: Id,
    name: Arc<str>,
    meta: WorkSpecMeta,
}

impl scheduler::Candidate for Candidate {
    fn name(&self) -> &str {
        &self.name
    }

    fn meta(&self) -> &WorkSpecMeta {
        &self.meta
    }
}

impl MemWorker {
    /// `Worker::request_attempts`.
    pub(crate) fn claim(&self, request: &AttemptRequest) -> Result<Vec<Arc<dyn Attempt>>> {
        let claimed = self.with(|namespace, now| {
            let expiration = add_duration("lifetime", now, request.lifetime)?;
            namespace.expire(now);
            let source = self.namespace.shared.scheduler_rng();
            let mut rng = source.handle();
            let answer = claim_rounds(|| {
                let candidates = namespace.candidates(request, now);
                let Some(chosen) = choose_work_spec(&candidates, request, now, &mut rng) else {
                    return Ok(Round::Done(Vec::new()));
                };
                let Candidate { id: spec, meta, .. } = &candidates[chosen];
                let (spec, meta) = (*spec, meta);
                if meta.available_count == 0 {
                    if !can_start_continuous(meta, now) {
                        return Ok(Round::Done(Vec::new()));
                    }
                    let (unit, attempt) =
                        self.start_continuous(namespace, spec, meta, now, expiration)?;
                    return named(namespace, vec![(spec, unit, attempt)]).map(Round::Done);
                }
                let mut claimed = Vec::new();
                let mut failed_any = false;
                for _ in 0..batch_size(meta, request.number_of_work_units) {
                    let state = namespace.spec(spec)?;
                    let Some(unit) = state.index.best() else {
                        break;
                    };
                    let previous = state.units.get(&unit).map_or(&[][..], |u| &u.attempts[..]);
                    // `now` was read under the store lock, so after every
                    // release that made this unit available: the lease
                    // cannot overlap the previous one. Still never before
                    // the previous attempt ended (a clock set back), as
                    // PostgreSQL's claim does.
                    let start = previous
                        .iter()
                        .filter_map(|id| namespace.attempts.get(id)?.end)
                        .fold(now, DateTime::max);
                    let lease_end = start + (expiration - now);
                    if retries_exhausted(meta, previous.len()) {
                        let failure = Some(too_many_retries_data());
                        namespace.add_attempt(spec, unit, self.id, start, lease_end, failure);
                        failed_any = true;
                    } else {
                        let attempt =
                            namespace.add_attempt(spec, unit, self.id, start, lease_end, None);
                        claimed.push((spec, unit, attempt));
                    }
                }
                if !claimed.is_empty() || !failed_any {
                    return named(namespace, claimed).map(Round::Done);
                }
                // Only units that used up their retries, now failed: the
                // next round chooses again.
                Ok(Round::Again)
            })?;
            Ok(answer.unwrap_or_default())
        })?;
        Ok(claimed
            .into_iter()
            .map(|(spec, spec_name, unit, unit_name, id)| {
                Arc::new(MemAttempt {
                    unit: self
                        .namespace
                        .spec_handle(spec, spec_name)
                        .unit_handle(unit, unit_name),
                    worker: self.clone(),
                    id,
                }) as Arc<dyn Attempt>
            })
            .collect())
    }

    /// Creates the next unit of a continuous spec (or reuses the one of
    /// the same name, made in the same millisecond) and an attempt on it.
    /// Returns the unit's and the attempt's ids.
    fn start_continuous(
        &self,
        namespace: &mut NamespaceState,
        spec: Id,
        meta: &WorkSpecMeta,
        now: DateTime<Utc>,
        expiration: DateTime<Utc>,
    ) -> Result<(Id, Id)> {
        let next = add_duration("interval", now, meta.interval).unwrap_or(DateTime::<Utc>::MAX_UTC);
        namespace.spec_mut(spec)?.meta.next_continuous = Some(next);
        let name = continuous_unit_name(now);
        let existing = namespace.spec(spec)?.unit_ids.get(name.as_str()).copied();
        let unit = match existing {
            Some(unit) => unit,
            None => {
                namespace
                    .upsert_unit(spec, &name, Data::new(), WorkUnitMeta::default(), now)?
                    .0
            }
        };
        let attempt = namespace.add_attempt(spec, unit, self.id, now, expiration, None);
        Ok((unit, attempt))
    }
}

/// A claimed (spec, unit, attempt) with the names its handle needs.
type Claimed = (Id, Arc<str>, Id, Arc<str>, Id);

/// Adds the spec and unit names to claimed ids, under the same lock.
fn named(namespace: &NamespaceState, claimed: Vec<(Id, Id, Id)>) -> Result<Vec<Claimed>> {
    claimed
        .into_iter()
        .map(|(spec, unit, attempt)| {
            let spec_name = namespace.spec(spec)?.name.clone();
            let unit_name = namespace.unit(spec, unit)?.name.clone();
            Ok((spec, spec_name, unit, unit_name, attempt))
        })
        .collect()
}
