//! `…/work_spec/{spec}/work_unit…`: querying, adding, deleting, reading and
//! changing work units, and their attempts.

use axum::extract::{Path, RawQuery};
use axum::response::Response;
use coordinate_api::{Data, WorkUnitMeta};
use coordinate_rest::wire::shapes::{self, WorkUnitDeleted, WorkUnitList};

use super::represent;
use super::support::{created, name, no_content, ok, store, work_unit_query, JsonBody};
use crate::error::ApiError;
use crate::store::StoreCall;

type SpecPath = Path<(String, String)>;
type UnitPath = Path<(String, String, String)>;

/// `GET …/work_unit?QUERY`: the selected units' names and URLs.
pub async fn list(
    call: StoreCall,
    Path((ns, spec)): SpecPath,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let (ns, spec) = (name(&ns)?, name(&spec)?);
    let query = work_unit_query(query.as_deref())?;
    call.run(move |s| {
        let (namespace, spec) = s.work_spec(&ns, &spec)?;
        let units = spec.work_units(&query).map_err(store)?;
        Ok(ok(&WorkUnitList {
            work_units: units
                .iter()
                .map(|u| represent::work_unit_short(s, &namespace, u))
                .collect(),
        }))
    })
    .await
}

/// `DELETE …/work_unit?QUERY`: removes the selected units; how many.
pub async fn delete(
    call: StoreCall,
    Path((ns, spec)): SpecPath,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let (ns, spec) = (name(&ns)?, name(&spec)?);
    let query = work_unit_query(query.as_deref())?;
    call.run(move |s| {
        let (_, spec) = s.work_spec(&ns, &spec)?;
        let deleted = spec.delete_work_units(&query).map_err(store)?;
        Ok(ok(&WorkUnitDeleted { deleted }))
    })
    .await
}

/// `POST …/work_unit` `{"name", "data", "meta"}`: adds one; 201.
pub async fn create(
    call: StoreCall,
    Path((ns, spec)): SpecPath,
    JsonBody(body): JsonBody<shapes::WorkUnit>,
) -> Result<Response, ApiError> {
    let (ns, spec) = (name(&ns)?, name(&spec)?);
    let data = match body.data {
        Some(data) => data.decode().map_err(store)?,
        None => Data::new(),
    };
    let meta = body.meta.map(WorkUnitMeta::from).unwrap_or_default();
    call.run(move |s| {
        let (namespace, spec) = s.work_spec(&ns, &spec)?;
        let unit = spec.add_work_unit(&body.name, data, meta).map_err(store)?;
        let short = represent::work_unit_short(s, &namespace, &unit);
        Ok(created(&short.url.clone(), &short))
    })
    .await
}

/// `GET …/work_unit/{unit}`.
pub async fn get(call: StoreCall, Path((ns, spec, unit)): UnitPath) -> Result<Response, ApiError> {
    let (ns, spec, unit) = (name(&ns)?, name(&spec)?, name(&unit)?);
    call.run(move |s| {
        let (namespace, unit) = s.work_unit(&ns, &spec, &unit)?;
        Ok(ok(&represent::work_unit(s, &namespace, &unit)?))
    })
    .await
}

/// `PUT …/work_unit/{unit}`: `meta` sets it, `active_attempt_url: "-"`
/// clears the active attempt; 204.
pub async fn put(
    call: StoreCall,
    Path((ns, spec, unit)): UnitPath,
    JsonBody(body): JsonBody<shapes::WorkUnit>,
) -> Result<Response, ApiError> {
    let (ns, spec, unit) = (name(&ns)?, name(&spec)?, name(&unit)?);
    call.run(move |s| {
        let (_, unit) = s.work_unit(&ns, &spec, &unit)?;
        if body.active_attempt_url.as_deref() == Some("-") {
            unit.clear_active_attempt().map_err(store)?;
        }
        if let Some(meta) = body.meta {
            unit.set_meta(meta.into()).map_err(store)?;
        }
        Ok(no_content())
    })
    .await
}

/// `GET …/work_unit/{unit}/attempts`: every attempt, oldest first.
pub async fn attempts(
    call: StoreCall,
    Path((ns, spec, unit)): UnitPath,
) -> Result<Response, ApiError> {
    let (ns, spec, unit) = (name(&ns)?, name(&spec)?, name(&unit)?);
    call.run(move |s| {
        let (namespace, unit) = s.work_unit(&ns, &spec, &unit)?;
        let attempts = unit.attempts().map_err(store)?;
        Ok(ok(&represent::attempt_list(s, &namespace, &attempts)?))
    })
    .await
}

/// `GET …/work_unit/{unit}/num-attempts`: a number.
pub async fn num_attempts(
    call: StoreCall,
    Path((ns, spec, unit)): UnitPath,
) -> Result<Response, ApiError> {
    let (ns, spec, unit) = (name(&ns)?, name(&spec)?, name(&unit)?);
    call.run(move |s| {
        let (_, unit) = s.work_unit(&ns, &spec, &unit)?;
        Ok(ok(&unit.num_attempts().map_err(store)?))
    })
    .await
}
