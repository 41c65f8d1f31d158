//! Operations go's API lacks, each one path segment below the resource it
//! belongs to (the wire module's table): batched adds, a unit's priority,
//! batched completions and renewals, waiting for work, and retention.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::Path;
use axum::response::Response;
use coordinate_api::{
    Attempt, Completion, Data, Error, Namespace, NewWorkUnit, ObjectKind, Outcome, PruneRequest,
    Wakeup,
};
use coordinate_rest::wire::additions::{
    AddWorkUnits, BatchResults, CompleteAttempts, OutcomeName, RenewAttempts, SetPriority,
    WaitForWork, WaitResult,
};
use coordinate_rest::wire::error_response;

use super::scope::{reference_in, Scope};
use super::support::{name, no_content, ok, store, JsonBody};
use super::urls::{AttemptPath, Urls};
use crate::error::ApiError;
use crate::store::StoreCall;

/// `POST …/work_spec/{spec}/work_units`: adds them all; 204.
pub async fn add_work_units(
    call: StoreCall,
    Path((ns, spec)): Path<(String, String)>,
    JsonBody(body): JsonBody<AddWorkUnits>,
) -> Result<Response, ApiError> {
    let (ns, spec) = (name(&ns)?, name(&spec)?);
    let units = body
        .work_units
        .into_iter()
        .map(|unit| {
            Ok(NewWorkUnit {
                name: unit.name,
                data: match unit.data {
                    Some(data) => data.decode()?,
                    None => Data::new(),
                },
                meta: unit.meta.map(Into::into).unwrap_or_default(),
            })
        })
        .collect::<Result<Vec<_>, Error>>()
        .map_err(store)?;
    call.run(move |s| {
        let (_, spec) = s.work_spec(&ns, &spec)?;
        spec.add_work_units(units).map_err(store)?;
        Ok(no_content())
    })
    .await
}

/// `POST …/work_unit/{unit}/set_priority` `{"priority": P}`: 204.
pub async fn set_priority(
    call: StoreCall,
    Path((ns, spec, unit)): Path<(String, String, String)>,
    JsonBody(body): JsonBody<SetPriority>,
) -> Result<Response, ApiError> {
    let (ns, spec, unit) = (name(&ns)?, name(&spec)?, name(&unit)?);
    call.run(move |s| {
        let (_, unit) = s.work_unit(&ns, &spec, &unit)?;
        unit.set_priority(body.priority).map_err(store)?;
        Ok(no_content())
    })
    .await
}

/// An attempt URL of a batch: the names in its path and its `ref`.
type AttemptUrl = (AttemptPath, Option<u64>);

/// The attempt URLs of a batch, read before the store is touched: 400 for
/// one this server did not hand out, and an invalid-input error for one
/// of another namespace (as the library refuses it).
fn attempt_paths<'a>(
    urls: &Urls,
    ns: &str,
    attempts: impl Iterator<Item = &'a str>,
) -> Result<Vec<AttemptUrl>, ApiError> {
    attempts
        .enumerate()
        .map(|(index, url)| {
            let path = urls.parse_attempt(url).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "entry {index}: {url:?} is not an attempt URL of this server"
                ))
            })?;
            let reference = reference_in(url)
                .map_err(|e| ApiError::bad_request(format!("entry {index}: {}", e.body.message)))?;
            if path.namespace != ns {
                return Err(store(Error::invalid(
                    "attempt",
                    format!(
                        "entry {index} belongs to namespace {:?}, not {ns:?}",
                        path.namespace
                    ),
                )));
            }
            Ok((path, reference))
        })
        .collect()
}

/// Runs `batch` over the attempts found (each through its own `ref`);
/// entries whose attempt is missing get their own error, in place.
fn per_entry<T>(
    s: &Scope<'_>,
    paths: &[AttemptUrl],
    entries: Vec<T>,
    batch: impl FnOnce(
        Vec<(Arc<dyn Attempt>, T)>,
    ) -> coordinate_api::Result<Vec<coordinate_api::Result<()>>>,
) -> Result<BatchResults, ApiError> {
    let mut results = vec![None; paths.len()];
    let mut found = Vec::new();
    let mut positions = Vec::new();
    for (index, ((path, reference), entry)) in paths.iter().zip(entries).enumerate() {
        match s.attempt_with(*reference, path) {
            Ok((_, attempt)) => {
                found.push((attempt, entry));
                positions.push(index);
            }
            Err(e) if e.status == 404 && e.body.error == "error" => {
                let gone = Error::gone(ObjectKind::Attempt, path.work_unit.clone());
                results[index] = Some(error_response(&gone).1);
            }
            Err(e) => results[index] = Some(e.body),
        }
    }
    for (index, result) in positions.into_iter().zip(batch(found).map_err(store)?) {
        results[index] = result.err().map(|e| error_response(&e).1);
    }
    Ok(BatchResults { results })
}

/// `POST /namespace/{ns}/complete_attempts`: one result per entry.
pub async fn complete_attempts(
    call: StoreCall,
    Path(ns): Path<String>,
    JsonBody(body): JsonBody<CompleteAttempts>,
) -> Result<Response, ApiError> {
    let ns = name(&ns)?;
    let paths = attempt_paths(
        &call.urls(),
        &ns,
        body.completions.iter().map(|e| e.attempt.as_str()),
    )?;
    let outcomes = body
        .completions
        .into_iter()
        .map(|entry| {
            let data = entry.data.map(|d| d.decode()).transpose()?;
            Ok(match entry.outcome {
                OutcomeName::Finish => Outcome::Finish(data),
                OutcomeName::Fail => Outcome::Fail(data),
                OutcomeName::Expire => Outcome::Expire(data),
                OutcomeName::Retry => Outcome::Retry {
                    data,
                    delay: entry.delay,
                },
            })
        })
        .collect::<Result<Vec<_>, Error>>()
        .map_err(store)?;
    call.run(move |s| {
        let namespace = s.namespace(&ns)?;
        let results = per_entry(s, &paths, outcomes, |found| {
            let batch: Vec<Completion> = found
                .into_iter()
                .map(|(attempt, outcome)| Completion::new(attempt, outcome))
                .collect();
            namespace.complete_attempts(&batch)
        })?;
        Ok(ok(&results))
    })
    .await
}

/// `POST /namespace/{ns}/renew_attempts`: one result per attempt.
pub async fn renew_attempts(
    call: StoreCall,
    Path(ns): Path<String>,
    JsonBody(body): JsonBody<RenewAttempts>,
) -> Result<Response, ApiError> {
    let ns = name(&ns)?;
    let paths = attempt_paths(&call.urls(), &ns, body.attempts.iter().map(String::as_str))?;
    let extend = body.extend_duration;
    call.run(move |s| {
        let namespace = s.namespace(&ns)?;
        let entries = vec![(); paths.len()];
        let results = per_entry(s, &paths, entries, |found| {
            let attempts: Vec<Arc<dyn Attempt>> = found.into_iter().map(|(a, ())| a).collect();
            namespace.renew_attempts(&attempts, extend)
        })?;
        Ok(ok(&results))
    })
    .await
}

/// `POST /namespace/{ns}/wait_for_work` `{"timeout": NANOS}`: how the wait
/// ended. Waits at most half the request timeout (a shorter wait is a
/// wake-up the caller already handles), outside the store's queue.
pub async fn wait_for_work(
    call: StoreCall,
    Path(ns): Path<String>,
    JsonBody(body): JsonBody<WaitForWork>,
) -> Result<Response, ApiError> {
    wait(call, ns, body, |namespace, timeout| {
        namespace.wait_for_work(timeout)
    })
    .await
}

/// `POST /namespace/{ns}/wait_for_cancellation` `{"timeout": NANOS}`: as
/// [`wait_for_work`], until an attempt of the namespace may have been
/// taken from its worker.
pub async fn wait_for_cancellation(
    call: StoreCall,
    Path(ns): Path<String>,
    JsonBody(body): JsonBody<WaitForWork>,
) -> Result<Response, ApiError> {
    wait(call, ns, body, |namespace, timeout| {
        namespace.wait_for_cancellation(timeout)
    })
    .await
}

/// One of the namespace's waits, at most half the request timeout.
async fn wait(
    call: StoreCall,
    ns: String,
    body: WaitForWork,
    wait: fn(&dyn Namespace, Duration) -> coordinate_api::Result<Wakeup>,
) -> Result<Response, ApiError> {
    let ns = name(&ns)?;
    let timeout = body.timeout.min(call.state().config().request_timeout / 2);
    call.run_waiting(move |s| {
        let wakeup = wait(s.namespace(&ns)?.as_ref(), timeout).map_err(store)?;
        Ok(ok(&WaitResult {
            wakeup: wakeup.into(),
        }))
    })
    .await
}

/// `POST /namespace/{ns}/prune`: removes old history; what went.
pub async fn prune(
    call: StoreCall,
    Path(ns): Path<String>,
    JsonBody(body): JsonBody<PruneRequest>,
) -> Result<Response, ApiError> {
    let ns = name(&ns)?;
    call.run(move |s| Ok(ok(&s.namespace(&ns)?.prune(&body).map_err(store)?)))
        .await
}

/// `POST /namespace/{ns}/count_prunable`: what `prune` would remove.
pub async fn count_prunable(
    call: StoreCall,
    Path(ns): Path<String>,
    JsonBody(body): JsonBody<PruneRequest>,
) -> Result<Response, ApiError> {
    let ns = name(&ns)?;
    call.run(move |s| {
        Ok(ok(&s
            .namespace(&ns)?
            .count_prunable(&body)
            .map_err(store)?))
    })
    .await
}
