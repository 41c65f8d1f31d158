//! `/namespace/{ns}/worker…`: workers, their reports and parents, asking
//! for work and making attempts, and their attempt lists.

use std::sync::Arc;

use axum::extract::Path;
use axum::response::Response;
use chrono::{DateTime, Utc};
use coordinate_api::query::DEFAULT_LIFETIME;
use coordinate_api::{Attempt, Data};
use coordinate_rest::wire::shapes::{self, AttemptResponse, AttemptSpecific, WorkerList};
use coordinate_rest::wire::values::AttemptRequestJson;

use super::represent;
use super::support::{name, no_content, ok, store, JsonBody};
use crate::error::ApiError;
use crate::store::StoreCall;

type WorkerPath = Path<(String, String)>;

/// go's zero time, which go's clients send for a time they leave unset.
fn go_zero_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("0001-01-01T00:00:00Z")
        .expect("a valid time")
        .with_timezone(&Utc)
}

/// `GET …/worker`: every worker's name and URL (go has no such list).
pub async fn list(call: StoreCall, Path(ns): Path<String>) -> Result<Response, ApiError> {
    let ns = name(&ns)?;
    call.run(move |s| {
        let namespace = s.namespace(&ns)?;
        let mut workers = namespace.workers().map_err(store)?;
        workers.sort_by(|a, b| a.name().cmp(b.name()));
        Ok(ok(&WorkerList {
            workers: workers
                .iter()
                .map(|w| represent::worker_short(s, &namespace, w))
                .collect(),
        }))
    })
    .await
}

/// `GET …/worker/{worker}`: gets or makes it, as go does.
pub async fn get(call: StoreCall, Path((ns, worker)): WorkerPath) -> Result<Response, ApiError> {
    let (ns, worker) = (name(&ns)?, name(&worker)?);
    call.run(move |s| {
        let (namespace, worker) = s.worker(&ns, &worker)?;
        Ok(ok(&represent::worker(s, &namespace, &worker)?))
    })
    .await
}

/// `PUT …/worker/{worker}`: `parent` (by name, `""` clears), then
/// `active: true` records a report, `active: false` deactivates, no
/// `active` leaves both; 204.
pub async fn put(
    call: StoreCall,
    Path((ns, worker)): WorkerPath,
    JsonBody(body): JsonBody<shapes::Worker>,
) -> Result<Response, ApiError> {
    let (ns, worker) = (name(&ns)?, name(&worker)?);
    let data = match &body.data {
        Some(data) => data.decode().map_err(store)?,
        None => Data::new(),
    };
    call.run(move |s| {
        let (namespace, worker) = s.worker(&ns, &worker)?;
        if let Some(parent) = &body.parent {
            let current = worker.parent().map_err(store)?;
            let current = current.as_ref().map_or("", |p| p.name());
            if current != parent {
                let new_parent = match parent.as_str() {
                    "" => None,
                    parent => Some(namespace.worker(parent).map_err(store)?),
                };
                worker.set_parent(new_parent).map_err(store)?;
            }
        }
        match body.active {
            Some(true) => worker
                .update(
                    data,
                    body.last_update.unwrap_or_else(go_zero_time),
                    body.expiration.unwrap_or_else(go_zero_time),
                    &body.mode,
                )
                .map_err(store)?,
            Some(false) if worker.active().map_err(store)? => worker.deactivate().map_err(store)?,
            _ => {}
        }
        Ok(no_content())
    })
    .await
}

/// `POST …/request_attempts`: work for the worker; a lifetime of 0 is
/// go's default lease.
pub async fn request_attempts(
    call: StoreCall,
    Path((ns, worker)): WorkerPath,
    JsonBody(body): JsonBody<AttemptRequestJson>,
) -> Result<Response, ApiError> {
    let (ns, worker) = (name(&ns)?, name(&worker)?);
    let mut request = body.into_request();
    // go documents a zero lifetime as "a system-provided default,
    // generally 15 minutes", and its clients send the request's zero
    // value; passed on as 0, the lease would end the moment it began and
    // the next read would hand the unit to someone else.
    if request.lifetime.is_zero() {
        request.lifetime = DEFAULT_LIFETIME;
    }
    call.run(move |s| {
        let (namespace, worker) = s.worker(&ns, &worker)?;
        let attempts = worker.request_attempts(&request).map_err(store)?;
        let work_spec = attempts
            .first()
            .map(|a| represent::work_spec(s, &namespace, &a.work_unit().work_spec(), None));
        Ok(ok(&AttemptResponse {
            work_spec_url: work_spec
                .as_ref()
                .map(|w| w.url.clone())
                .unwrap_or_default(),
            work_spec: work_spec.map(Box::new),
            attempts: attempts
                .iter()
                .map(|a| represent::attempt(s, &namespace, a))
                .collect::<Result<_, _>>()?,
        }))
    })
    .await
}

/// `POST …/make_attempt` `{"work_spec", "work_unit", "lifetime"}`: the new
/// attempt.
pub async fn make_attempt(
    call: StoreCall,
    Path((ns, worker)): WorkerPath,
    JsonBody(body): JsonBody<AttemptSpecific>,
) -> Result<Response, ApiError> {
    let (ns, worker) = (name(&ns)?, name(&worker)?);
    call.run(move |s| {
        let (namespace, worker) = s.worker(&ns, &worker)?;
        let unit = namespace
            .work_spec(&body.work_spec)
            .map_err(store)?
            .work_unit(&body.work_unit)
            .map_err(store)?;
        let attempt = worker.make_attempt(unit, body.lifetime).map_err(store)?;
        Ok(ok(&represent::attempt(s, &namespace, &attempt)?))
    })
    .await
}

type Lister = fn(&dyn coordinate_api::Worker) -> coordinate_api::Result<Vec<Arc<dyn Attempt>>>;

async fn attempts(
    call: StoreCall,
    ns: String,
    worker: String,
    list: Lister,
) -> Result<Response, ApiError> {
    let (ns, worker) = (name(&ns)?, name(&worker)?);
    call.run(move |s| {
        let (namespace, worker) = s.worker(&ns, &worker)?;
        let attempts = list(&*worker).map_err(store)?;
        Ok(ok(&represent::attempt_list(s, &namespace, &attempts)?))
    })
    .await
}

/// `GET …/active_attempts`.
pub async fn active_attempts(
    call: StoreCall,
    Path((ns, w)): WorkerPath,
) -> Result<Response, ApiError> {
    attempts(call, ns, w, |w| w.active_attempts()).await
}

/// `GET …/all_attempts`.
pub async fn all_attempts(
    call: StoreCall,
    Path((ns, w)): WorkerPath,
) -> Result<Response, ApiError> {
    attempts(call, ns, w, |w| w.all_attempts()).await
}

/// `GET …/child_attempts`.
pub async fn child_attempts(
    call: StoreCall,
    Path((ns, w)): WorkerPath,
) -> Result<Response, ApiError> {
    attempts(call, ns, w, |w| w.child_attempts()).await
}
