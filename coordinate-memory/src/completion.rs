//! `Namespace::complete_attempts` and `Namespace::renew_attempts`: every
//! entry applied under one hold of the store lock, in order, each with the
//! single call's rules (`NamespaceState::change_attempt`).

use std::sync::Arc;
use std::time::Duration;

use coordinate_api::backend::completion::{check_completions, check_renewals, Entry};
use coordinate_api::backend::lifecycle::{Call, Request};
use coordinate_api::backend::validate::validate_attempt_namespace;
use coordinate_api::{downcast, Attempt, Completion, Data, ObjectKind, Result};

use crate::attempt::MemAttempt;
use crate::coordinate::Id;
use crate::namespace::{named, MemNamespace};

/// An entry that passed its checks: the attempt, the call and its span,
/// the data it stores and its unit's name (for errors).
struct Checked {
    id: Id,
    call: Call,
    span: Duration,
    data: Option<Data>,
    unit: Arc<str>,
}

impl MemNamespace {
    /// `Namespace::complete_attempts`.
    pub(crate) fn complete(&self, batch: &[Completion]) -> Result<Vec<Result<()>>> {
        self.apply(check_completions(batch, |e| self.check(e)))
    }

    /// `Namespace::renew_attempts`.
    pub(crate) fn renew_all(
        &self,
        attempts: &[Arc<dyn Attempt>],
        extend: Duration,
    ) -> Result<Vec<Result<()>>> {
        let now = self.shared.now();
        self.apply(check_renewals(attempts, extend, now, |e| self.check(e))?)
    }

    /// Checks one entry before the lock: our backend, this namespace, data
    /// within the limits.
    fn check(&self, entry: Entry<'_>) -> Result<Checked> {
        let attempt = downcast::<MemAttempt>(entry.attempt as &dyn std::any::Any)?;
        validate_attempt_namespace(self.is_same(&attempt.worker.namespace))?;
        let data = entry.data.cloned();
        attempt.check(&data)?;
        Ok(Checked {
            id: attempt.id,
            call: entry.call,
            span: entry.span,
            data,
            unit: attempt.unit.name.clone(),
        })
    }

    /// Applies the checked entries in order under one lock.
    fn apply(&self, entries: Vec<Result<Checked>>) -> Result<Vec<Result<()>>> {
        self.with(|namespace, now| {
            Ok(entries
                .into_iter()
                .map(|entry| {
                    let entry = entry?;
                    let change = || {
                        namespace.attempt(entry.id)?;
                        let request = Request::at(entry.call, entry.span, now)?;
                        namespace.change_attempt(entry.id, request, entry.data, now)
                    };
                    change().map_err(|e| named(e, ObjectKind::Attempt, &entry.unit))
                })
                .collect())
        })
    }
}
