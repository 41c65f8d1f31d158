//! `…/work_unit/{unit}/attempt/{worker}/{start}…`: one attempt, found
//! through its `ref` or by its worker and exact start time, and the calls
//! that renew or end it.

use axum::extract::Path;
use axum::response::Response;
use coordinate_rest::wire::shapes::AttemptCompletion;
use coordinate_rest::wire::time::parse_time;

use super::represent;
use super::support::{name, no_content, ok, store, JsonBody};
use super::urls::AttemptPath;
use crate::error::ApiError;
use crate::store::StoreCall;

type AttemptParams = Path<(String, String, String, String, String)>;

/// The names in an attempt's path, decoded (400 if any is malformed).
fn attempt_path(
    (ns, spec, unit, worker, start): (String, String, String, String, String),
) -> Result<AttemptPath, ApiError> {
    let start_text = name(&start)?;
    let start = parse_time(&start_text).map_err(|e| {
        ApiError::bad_request(format!(
            "attempt start time {start_text:?} is not RFC 3339: {e}"
        ))
    })?;
    Ok(AttemptPath {
        namespace: name(&ns)?,
        work_spec: name(&spec)?,
        work_unit: name(&unit)?,
        worker: name(&worker)?,
        start,
    })
}

/// `GET …/attempt/{worker}/{start}`.
pub async fn get(call: StoreCall, Path(params): AttemptParams) -> Result<Response, ApiError> {
    let path = attempt_path(params)?;
    call.run(move |s| {
        let (namespace, attempt) = s.attempt(&path)?;
        Ok(ok(&represent::attempt(s, &namespace, &attempt)?))
    })
    .await
}

/// How a POST to an attempt ends or renews it.
#[derive(Debug, Clone, Copy)]
enum Action {
    Renew,
    Expire,
    Finish,
    Fail,
    Retry,
}

async fn act(
    call: StoreCall,
    params: (String, String, String, String, String),
    body: AttemptCompletion,
    action: Action,
) -> Result<Response, ApiError> {
    let path = attempt_path(params)?;
    let data = body.data.map(|d| d.decode()).transpose().map_err(store)?;
    call.run(move |s| {
        let (_, attempt) = s.attempt(&path)?;
        match action {
            Action::Renew => attempt.renew(body.extend_duration, data),
            Action::Expire => attempt.expire(data),
            Action::Finish => attempt.finish(data),
            Action::Fail => attempt.fail(data),
            Action::Retry => attempt.retry(data, body.delay),
        }
        .map_err(store)?;
        Ok(no_content())
    })
    .await
}

/// `POST …/renew` `{"extend_duration": NANOS, "data": …}`: 204.
pub async fn renew(
    call: StoreCall,
    Path(p): AttemptParams,
    JsonBody(b): JsonBody<AttemptCompletion>,
) -> Result<Response, ApiError> {
    act(call, p, b, Action::Renew).await
}

/// `POST …/expire`: 204.
pub async fn expire(
    call: StoreCall,
    Path(p): AttemptParams,
    JsonBody(b): JsonBody<AttemptCompletion>,
) -> Result<Response, ApiError> {
    act(call, p, b, Action::Expire).await
}

/// `POST …/finish`: 204.
pub async fn finish(
    call: StoreCall,
    Path(p): AttemptParams,
    JsonBody(b): JsonBody<AttemptCompletion>,
) -> Result<Response, ApiError> {
    act(call, p, b, Action::Finish).await
}

/// `POST …/fail`: 204.
pub async fn fail(
    call: StoreCall,
    Path(p): AttemptParams,
    JsonBody(b): JsonBody<AttemptCompletion>,
) -> Result<Response, ApiError> {
    act(call, p, b, Action::Fail).await
}

/// `POST …/retry` `{"delay": NANOS}`: 204.
pub async fn retry(
    call: StoreCall,
    Path(p): AttemptParams,
    JsonBody(b): JsonBody<AttemptCompletion>,
) -> Result<Response, ApiError> {
    act(call, p, b, Action::Retry).await
}
