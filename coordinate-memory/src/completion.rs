//! `Namespace::complete_attempts` and `Namespace::renew_attempts`: every
//! entry applied under one hold of the store lock, in order, each with the
//! single call's rules (`NamespaceState::change_attempt`).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use coordinate_api::clock::truncate_to_micros;
use coordinate_api::validate::add_duration;
use coordinate_api::{downcast, Attempt, Completion, Data, Error, ObjectKind, Outcome, Result};

use coordinate_api::lifecycle::Request;

use crate::attempt::MemAttempt;
use crate::coordinate::Id;
use crate::namespace::{named, MemNamespace};

/// An entry that passed its checks: the attempt, what it asks, the data
/// it stores and its unit's name (for errors).
type Checked = (Id, Asked, Option<Data>, Arc<str>);

/// What an entry asks, before the clock is read: a retry's delay becomes a
/// time under the lock.
enum Asked {
    Finish,
    Fail,
    Expire,
    Retry(Duration),
    Renew(Duration),
}

impl Asked {
    fn request(&self, now: DateTime<Utc>) -> Result<Request> {
        Ok(match self {
            Asked::Finish => Request::Finish,
            Asked::Fail => Request::Fail,
            Asked::Expire => Request::Expire,
            Asked::Retry(delay) => Request::Retry(truncate_to_micros(add_duration(
                "retry delay",
                now,
                *delay,
            )?)),
            Asked::Renew(extend) => Request::Renew(add_duration("lease extension", now, *extend)?),
        })
    }
}

impl MemNamespace {
    /// `Namespace::complete_attempts`.
    pub(crate) fn complete(&self, batch: &[Completion]) -> Result<Vec<Result<()>>> {
        let entries = batch
            .iter()
            .map(|completion| {
                let asked = match &completion.outcome {
                    Outcome::Finish(_) => Asked::Finish,
                    Outcome::Fail(_) => Asked::Fail,
                    Outcome::Expire(_) => Asked::Expire,
                    Outcome::Retry { delay, .. } => Asked::Retry(*delay),
                };
                let data = completion.outcome.data().cloned();
                self.entry(completion.attempt.as_ref(), asked, data)
            })
            .collect();
        self.apply(entries)
    }

    /// `Namespace::renew_attempts`.
    pub(crate) fn renew_all(
        &self,
        attempts: &[Arc<dyn Attempt>],
        extend: Duration,
    ) -> Result<Vec<Result<()>>> {
        // An absurd extension is the whole call's error, not each entry's.
        add_duration("lease extension", self.shared.now(), extend)?;
        let entries = attempts
            .iter()
            .map(|attempt| self.entry(attempt.as_ref(), Asked::Renew(extend), None))
            .collect();
        self.apply(entries)
    }

    /// Checks one entry before the lock: our backend, this namespace, data
    /// within the limits.
    fn entry(&self, attempt: &dyn Attempt, asked: Asked, data: Option<Data>) -> Result<Checked> {
        let attempt = downcast::<MemAttempt>(attempt as &dyn std::any::Any)?;
        let namespace = &attempt.worker.namespace;
        if !Arc::ptr_eq(&namespace.shared, &self.shared) || namespace.id != self.id {
            return Err(Error::invalid(
                "attempt",
                "it belongs to another namespace than the one completing it",
            ));
        }
        attempt.check(&data)?;
        Ok((attempt.id, asked, data, attempt.unit.name.clone()))
    }

    /// Applies the checked entries in order under one lock.
    fn apply(&self, entries: Vec<Result<Checked>>) -> Result<Vec<Result<()>>> {
        self.with(|namespace, now| {
            Ok(entries
                .into_iter()
                .map(|entry| {
                    let (id, asked, data, unit) = entry?;
                    let change = || {
                        namespace.attempt(id)?;
                        namespace.change_attempt(id, asked.request(now)?, data, now)
                    };
                    change().map_err(|e| named(e, ObjectKind::Attempt, &unit))
                })
                .collect())
        })
    }
}
