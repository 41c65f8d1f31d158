//! Operators' actions that take several calls: retrying failed units and
//! releasing a dead worker's attempts. The `coordinate` command and
//! `coordinated`'s dashboard both act through these, so one rule decides
//! what either does.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::attempt::Attempt;
use crate::error::{Error, Result};
use crate::query::WorkUnitQuery;
use crate::status::WorkUnitStatus;
use crate::work_spec::WorkSpec;
use crate::worker::Worker;

/// Makes failed units available again, the way go-coordinate's Python tool
/// retries them: the failed attempt stops being the unit's active one and
/// stays in its history; the unit keeps its data and priority.
///
/// `names`: those units, every one of which must exist and have failed
/// (else [`Error::InvalidInput`] naming each that has not, and nothing
/// changes); `None`: every failed unit of the spec. Returns how many were
/// retried.
pub fn retry_failed_units(spec: &dyn WorkSpec, names: Option<&[String]>) -> Result<usize> {
    let units = match names {
        None => spec.work_units(&WorkUnitQuery::statuses([WorkUnitStatus::Failed]))?,
        Some(names) => {
            let units = spec.work_units(&WorkUnitQuery::names(names.iter().cloned()))?;
            let found: BTreeSet<&str> = units.iter().map(|u| u.name()).collect();
            let mut refused: Vec<String> = names
                .iter()
                .filter(|n| !found.contains(n.as_str()))
                .map(|n| format!("{n:?} does not exist"))
                .collect();
            for unit in &units {
                let status = unit.status()?;
                if status != WorkUnitStatus::Failed {
                    refused.push(format!("{:?} is {status}", unit.name()));
                }
            }
            if !refused.is_empty() {
                return Err(Error::invalid(
                    "selection",
                    format!(
                        "only failed units are retried: {}; nothing changed",
                        refused.join(", ")
                    ),
                ));
            }
            units
        }
    };
    for unit in &units {
        unit.clear_active_attempt()?;
    }
    Ok(units.len())
}

/// Releasing a worker: its active attempts and its children's are
/// expired, so their units are available at once instead of when the
/// leases run out, and the workers are marked inactive. Made in two steps
/// so that a caller can say what it is about to do (and ask) first.
pub struct ReleasePlan {
    family: Vec<Arc<dyn Worker>>,
    attempts: Vec<Arc<dyn Attempt>>,
}

impl ReleasePlan {
    /// What releasing `worker` would do. A worker whose last report is
    /// still current at `now` may be alive (its attempts would come back to
    /// it as lost leases), so unless `force` that is refused with
    /// [`Error::InvalidInput`].
    pub fn new(worker: Arc<dyn Worker>, force: bool, now: DateTime<Utc>) -> Result<ReleasePlan> {
        let mut family = vec![worker];
        let mut index = 0;
        while index < family.len() {
            let children = family[index].children()?;
            family.extend(children);
            index += 1;
        }
        let mut attempts = Vec::new();
        for member in &family {
            let expires = member.expiration()?;
            if !force && member.active()? && expires > now {
                return Err(Error::invalid(
                    "release",
                    format!(
                        "worker {:?} last reported at {} and its report is current until {}: \
                         it may still be running; nothing released",
                        member.name(),
                        time(member.last_update()?),
                        time(expires)
                    ),
                ));
            }
            attempts.extend(member.active_attempts()?);
        }
        Ok(ReleasePlan { family, attempts })
    }

    /// Attempts the release would expire.
    pub fn attempts(&self) -> usize {
        self.attempts.len()
    }

    /// Child workers (at any depth) released with the worker.
    pub fn children(&self) -> usize {
        self.family.len() - 1
    }

    /// Expires the attempts and deactivates the workers; returns how many
    /// attempts were expired (one that ended meanwhile is skipped).
    pub fn carry_out(self) -> Result<usize> {
        let mut released = 0;
        for attempt in &self.attempts {
            match attempt.expire(None) {
                Ok(()) => released += 1,
                // It ended between the listing and now: nothing to give back.
                Err(Error::NotPending { .. }) => {}
                Err(error) => return Err(error),
            }
        }
        for member in &self.family {
            member.deactivate()?;
        }
        Ok(released)
    }
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}
