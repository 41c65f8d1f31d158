//! The namespace handle and its batch calls.

use std::sync::Arc;
use std::time::Duration;

use coordinate_api::backend::validate::{validate_attempt_namespace, validate_name};
use coordinate_api::{
    downcast, Attempt, Completion, Data, Error, Namespace, ObjectKind, Outcome, PruneRequest,
    Pruned, Result, Summary, Wakeup, WorkSpec, Worker,
};
use ureq::http::Method;

use super::http::Shared;
use super::url::fill;
use super::{summary, RestAttempt, RestWorkSpec, RestWorker};
use crate::wire::additions::{self, append_segment, BatchResults, CompletionJson, OutcomeName};
use crate::wire::shapes;
use crate::wire::{error_from_response, DataDict};

/// Turns an error the server met while resolving a handle's own URL into
/// [`Error::Gone`] naming that handle: a missing or gone object on the
/// handle's path means the handle's object (or an ancestor) was deleted.
/// `spec` and `unit` are the handle's own work spec and work unit names.
pub(crate) fn as_gone(
    error: Error,
    kind: ObjectKind,
    name: &str,
    spec: Option<&str>,
    unit: Option<&str>,
) -> Error {
    match error {
        Error::Gone { .. } => Error::gone(kind, name),
        Error::NoSuchWorkSpec { name: missing } if Some(missing.as_str()) == spec => {
            Error::gone(kind, name)
        }
        Error::NoSuchWorkUnit { name: missing } if Some(missing.as_str()) == unit => {
            Error::gone(kind, name)
        }
        other => other,
    }
}

/// A namespace on a server.
#[derive(Debug, Clone)]
pub struct RestNamespace {
    pub(crate) shared: Arc<Shared>,
    pub(crate) repr: Arc<shapes::Namespace>,
}

impl RestNamespace {
    pub(crate) fn new(shared: Arc<Shared>, repr: shapes::Namespace) -> Self {
        RestNamespace {
            shared,
            repr: Arc::new(repr),
        }
    }

    /// Whether `other` is this namespace of this same coordinate: the
    /// rule every call taking a second handle applies. A handle of another
    /// [`RestCoordinate`](super::RestCoordinate) is refused even when it
    /// names the same namespace of the same server.
    pub(crate) fn is_same(&self, other: &RestNamespace) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared) && self.repr.name == other.repr.name
    }

    fn own(&self, error: Error) -> Error {
        as_gone(error, ObjectKind::Namespace, &self.repr.name, None, None)
    }

    /// A work spec handle from the work spec's URL.
    pub(crate) fn spec_at(self: &Arc<Self>, url: &str) -> Result<Arc<RestWorkSpec>> {
        let repr: shapes::WorkSpec = self.shared.get(url)?;
        Ok(Arc::new(RestWorkSpec::new(self.clone(), repr)))
    }

    /// A worker handle from the worker's URL.
    pub(crate) fn worker_at(self: &Arc<Self>, url: &str) -> Result<Arc<RestWorker>> {
        let repr: shapes::Worker = self.shared.get(url)?;
        Ok(Arc::new(RestWorker::new(self.clone(), repr)))
    }

    fn arc(&self) -> Arc<RestNamespace> {
        Arc::new(self.clone())
    }

    /// The wire form of optional data.
    pub(crate) fn wire_data(data: Option<&Data>) -> Result<Option<DataDict>> {
        data.map(DataDict::encode).transpose()
    }

    /// Sends one batch whose entries were checked: `entries[i]` is the
    /// request entry or the refusal of entry `i`.
    fn send_batch<T, B: serde::Serialize>(
        &self,
        segment: &str,
        entries: Vec<Result<T>>,
        body: impl FnOnce(Vec<T>) -> B,
    ) -> Result<Vec<Result<()>>> {
        let mut sent = Vec::new();
        let mut answers: Vec<Option<Result<()>>> = Vec::new();
        for entry in entries {
            match entry {
                Ok(request) => {
                    sent.push(request);
                    answers.push(None);
                }
                Err(refused) => answers.push(Some(Err(refused))),
            }
        }
        let mut results = if sent.is_empty() {
            Vec::new().into_iter()
        } else {
            let url = append_segment(&self.repr.url, segment);
            let count = sent.len();
            let answer: BatchResults = self
                .shared
                .call(Method::POST, &url, &body(sent))
                .map_err(|e| self.own(e))?;
            if answer.results.len() != count {
                return Err(Error::backend(
                    coordinate_api::BackendErrorKind::Other,
                    format!(
                        "the server answered {} results for {count} entries",
                        answer.results.len()
                    ),
                ));
            }
            answer.results.into_iter()
        };
        Ok(answers
            .into_iter()
            .map(|answer| match answer {
                Some(refused) => refused,
                None => match results.next().flatten() {
                    None => Ok(()),
                    Some(error) => Err(error_from_response(0, &error)),
                },
            })
            .collect())
    }

    /// The attempt handle of a batch entry, if it is one of ours in this
    /// namespace.
    fn our_attempt<'a>(&self, attempt: &'a dyn Attempt) -> Result<&'a RestAttempt> {
        let ours: &RestAttempt = downcast(attempt as &dyn std::any::Any)?;
        validate_attempt_namespace(self.is_same(&ours.worker.namespace))?;
        Ok(ours)
    }
}

impl Namespace for RestNamespace {
    fn name(&self) -> &str {
        &self.repr.name
    }

    fn destroy(&self) -> Result<()> {
        self.shared.delete(&self.repr.url)
    }

    fn set_work_spec(&self, data: Data) -> Result<Arc<dyn WorkSpec>> {
        let body = shapes::WorkSpec {
            data: Some(DataDict::encode(&data)?),
            ..shapes::WorkSpec::default()
        };
        let short: shapes::WorkSpecShort = self
            .shared
            .call(Method::POST, &self.repr.work_specs_url, &body)
            .map_err(|e| self.own(e))?;
        let spec = self.arc().spec_at(&short.url).map_err(|e| self.own(e))?;
        Ok(spec)
    }

    fn work_spec(&self, name: &str) -> Result<Arc<dyn WorkSpec>> {
        validate_name("work spec name", name)?;
        let url = fill(&self.repr.work_spec_url, "spec", name);
        let spec = self.arc().spec_at(&url).map_err(|e| self.own(e))?;
        Ok(spec)
    }

    fn destroy_work_spec(&self, name: &str) -> Result<()> {
        validate_name("work spec name", name)?;
        let url = fill(&self.repr.work_spec_url, "spec", name);
        self.shared.delete(&url).map_err(|e| self.own(e))
    }

    fn work_spec_names(&self) -> Result<Vec<String>> {
        let list: shapes::WorkSpecList = self.shared.get(&self.repr.work_specs_url)?;
        Ok(list.work_specs.into_iter().map(|s| s.name).collect())
    }

    fn worker(&self, name: &str) -> Result<Arc<dyn Worker>> {
        validate_name("worker name", name)?;
        let url = fill(&self.repr.worker_url, "worker", name);
        let worker = self.arc().worker_at(&url).map_err(|e| self.own(e))?;
        Ok(worker)
    }

    fn workers(&self) -> Result<Vec<Arc<dyn Worker>>> {
        let list: shapes::WorkerList = self.shared.get(&self.repr.workers_url)?;
        let me = self.arc();
        let mut workers: Vec<Arc<dyn Worker>> = Vec::new();
        for short in list.workers {
            match me.worker_at(&short.url) {
                Ok(worker) => workers.push(worker),
                Err(Error::Gone { .. }) => continue,
                Err(other) => return Err(other),
            }
        }
        Ok(workers)
    }

    fn summarize(&self) -> Result<Summary> {
        Ok(summary(self.shared.get(&self.repr.summary_url)?))
    }

    fn prune(&self, request: &PruneRequest) -> Result<Pruned> {
        request.validate()?;
        let url = append_segment(&self.repr.url, additions::PRUNE);
        self.shared
            .call(Method::POST, &url, request)
            .map_err(|e| self.own(e))
    }

    fn count_prunable(&self, request: &PruneRequest) -> Result<Pruned> {
        request.validate()?;
        let url = append_segment(&self.repr.url, additions::COUNT_PRUNABLE);
        self.shared
            .call(Method::POST, &url, request)
            .map_err(|e| self.own(e))
    }

    fn complete_attempts(&self, batch: &[Completion]) -> Result<Vec<Result<()>>> {
        let entries = batch
            .iter()
            .map(|completion| {
                let attempt = self.our_attempt(completion.attempt.as_ref())?;
                let (outcome, data, delay) = match &completion.outcome {
                    Outcome::Finish(data) => (OutcomeName::Finish, data, Duration::ZERO),
                    Outcome::Fail(data) => (OutcomeName::Fail, data, Duration::ZERO),
                    Outcome::Expire(data) => (OutcomeName::Expire, data, Duration::ZERO),
                    Outcome::Retry { data, delay } => (OutcomeName::Retry, data, *delay),
                };
                Ok(CompletionJson {
                    attempt: attempt.repr.url.clone(),
                    outcome,
                    data: Self::wire_data(data.as_ref())?,
                    delay,
                })
            })
            .collect();
        self.send_batch(additions::COMPLETE_ATTEMPTS, entries, |completions| {
            additions::CompleteAttempts { completions }
        })
    }

    fn renew_attempts(
        &self,
        attempts: &[Arc<dyn Attempt>],
        extend: Duration,
    ) -> Result<Vec<Result<()>>> {
        let entries = attempts
            .iter()
            .map(|attempt| Ok(self.our_attempt(attempt.as_ref())?.repr.url.clone()))
            .collect();
        self.send_batch(additions::RENEW_ATTEMPTS, entries, |attempts| {
            additions::RenewAttempts {
                attempts,
                extend_duration: extend,
            }
        })
    }

    fn wait_for_work(&self, timeout: Duration) -> Result<Wakeup> {
        self.wait(additions::WAIT_FOR_WORK, timeout)
    }

    fn wait_for_cancellation(&self, timeout: Duration) -> Result<Wakeup> {
        self.wait(additions::WAIT_FOR_CANCELLATION, timeout)
    }
}

impl RestNamespace {
    /// One of the server's long-polled waits, at `segment`.
    fn wait(&self, segment: &str, timeout: Duration) -> Result<Wakeup> {
        let url = append_segment(&self.repr.url, segment);
        let body = serde_json::to_vec(&additions::WaitForWork { timeout })
            .map_err(|e| Error::invalid("timeout", e))?;
        let bytes = self
            .shared
            .send(Method::POST, &url, Some(body), timeout)
            .map_err(|e| self.own(e))?;
        let answer: additions::WaitResult = serde_json::from_slice(&bytes)
            .map_err(|e| Error::backend(coordinate_api::BackendErrorKind::Other, e.to_string()))?;
        Ok(answer.wakeup.into())
    }
}
