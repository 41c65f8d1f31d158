//! `/namespace/{ns}/work_spec…`: listing, setting, reading and removing
//! work specs, their meta, counts, summaries and bulk priority changes.

use axum::extract::{Path, RawQuery};
use axum::response::Response;
use coordinate_api::WorkSpecMeta;
use coordinate_rest::wire::shapes::{self, WorkSpecList, WorkSpecShort};
use coordinate_rest::wire::values::{WorkSpecMetaJson, WorkUnitCountsJson};

use super::represent;
use super::support::{bool_param, created, name, no_content, ok, store, work_unit_query, JsonBody};
use crate::error::ApiError;
use crate::store::StoreCall;

/// `GET …/work_spec`: the work specs' names and URLs.
pub async fn list(call: StoreCall, Path(ns): Path<String>) -> Result<Response, ApiError> {
    let ns = name(&ns)?;
    call.run(move |s| {
        let namespace = s.namespace(&ns)?;
        let mut names = namespace.work_spec_names().map_err(store)?;
        names.sort();
        Ok(ok(&WorkSpecList {
            work_specs: names
                .into_iter()
                .map(|spec| WorkSpecShort {
                    url: s.work_spec_name_link(&namespace, &spec).url(),
                    name: spec,
                })
                .collect(),
        }))
    })
    .await
}

/// `POST …/work_spec` `{"data": …}`: sets a work spec; 201.
pub async fn create(
    call: StoreCall,
    Path(ns): Path<String>,
    JsonBody(body): JsonBody<shapes::WorkSpec>,
) -> Result<Response, ApiError> {
    let ns = name(&ns)?;
    let data = body
        .data
        .ok_or_else(|| ApiError::bad_request("the work spec needs its \"data\""))?
        .decode()
        .map_err(store)?;
    call.run(move |s| {
        let namespace = s.namespace(&ns)?;
        let spec = namespace.set_work_spec(data).map_err(store)?;
        let short = represent::work_spec_short(s, &namespace, &spec);
        Ok(created(&short.url.clone(), &short))
    })
    .await
}

/// `GET …/work_spec/{spec}`: its definition and URLs.
pub async fn get(
    call: StoreCall,
    Path((ns, spec)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (ns, spec) = (name(&ns)?, name(&spec)?);
    call.run(move |s| {
        let (namespace, spec) = s.work_spec(&ns, &spec)?;
        let data = represent::data(&spec.data().map_err(store)?)?;
        Ok(ok(&represent::work_spec(s, &namespace, &spec, Some(data))))
    })
    .await
}

/// `PUT …/work_spec/{spec}` `{"data": …}`: replaces the definition; 204.
pub async fn put(
    call: StoreCall,
    Path((ns, spec)): Path<(String, String)>,
    JsonBody(body): JsonBody<shapes::WorkSpec>,
) -> Result<Response, ApiError> {
    let (ns, spec) = (name(&ns)?, name(&spec)?);
    let data = body.data.map(|d| d.decode()).transpose().map_err(store)?;
    call.run(move |s| {
        let (_, spec) = s.work_spec(&ns, &spec)?;
        if let Some(data) = data {
            spec.set_data(data).map_err(store)?;
        }
        Ok(no_content())
    })
    .await
}

/// `DELETE …/work_spec/{spec}`: 204.
pub async fn delete(
    call: StoreCall,
    Path((ns, spec)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (ns, spec) = (name(&ns)?, name(&spec)?);
    call.run(move |s| {
        let (namespace, handle) = s.work_spec(&ns, &spec)?;
        // Destroying goes by name: a handle reached through `ref` must
        // first show its spec is still there (else it answers Gone), lest
        // a spec re-created under the name goes instead.
        handle.meta(false).map_err(store)?;
        namespace.destroy_work_spec(&spec).map_err(store)?;
        Ok(no_content())
    })
    .await
}

/// `GET …/meta?counts=…`.
pub async fn meta_get(
    call: StoreCall,
    Path((ns, spec)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let (ns, spec) = (name(&ns)?, name(&spec)?);
    let counts = bool_param(query.as_deref(), "counts", false);
    call.run(move |s| {
        let (_, spec) = s.work_spec(&ns, &spec)?;
        Ok(ok(&WorkSpecMetaJson::from(
            spec.meta(counts).map_err(store)?,
        )))
    })
    .await
}

/// `PUT …/meta`: 204.
pub async fn meta_put(
    call: StoreCall,
    Path((ns, spec)): Path<(String, String)>,
    JsonBody(body): JsonBody<WorkSpecMetaJson>,
) -> Result<Response, ApiError> {
    let (ns, spec) = (name(&ns)?, name(&spec)?);
    let meta = WorkSpecMeta::from(body);
    call.run(move |s| {
        let (_, spec) = s.work_spec(&ns, &spec)?;
        spec.set_meta(meta).map_err(store)?;
        Ok(no_content())
    })
    .await
}

/// `GET …/counts`: units per status name.
pub async fn counts(
    call: StoreCall,
    Path((ns, spec)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (ns, spec) = (name(&ns)?, name(&spec)?);
    call.run(move |s| {
        let (_, spec) = s.work_spec(&ns, &spec)?;
        let counts: WorkUnitCountsJson = spec
            .count_work_unit_status()
            .map_err(store)?
            .into_iter()
            .map(|(status, n)| (status.as_str().to_owned(), n))
            .collect();
        Ok(ok(&counts))
    })
    .await
}

/// `POST …/change?QUERY` `{"meta": {"priority": P}}`: sets the priority of
/// the units selected; 204.
pub async fn change(
    call: StoreCall,
    path: Path<(String, String)>,
    query: RawQuery,
    body: JsonBody<shapes::WorkUnit>,
) -> Result<Response, ApiError> {
    priorities(call, path, query, body, false).await
}

/// `POST …/adjust?QUERY` `{"meta": {"priority": D}}`: adds to the priority
/// of the units selected; 204.
pub async fn adjust(
    call: StoreCall,
    path: Path<(String, String)>,
    query: RawQuery,
    body: JsonBody<shapes::WorkUnit>,
) -> Result<Response, ApiError> {
    priorities(call, path, query, body, true).await
}

async fn priorities(
    call: StoreCall,
    Path((ns, spec)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    JsonBody(body): JsonBody<shapes::WorkUnit>,
    adjust: bool,
) -> Result<Response, ApiError> {
    let (ns, spec) = (name(&ns)?, name(&spec)?);
    let query = work_unit_query(query.as_deref())?;
    call.run(move |s| {
        let (_, spec) = s.work_spec(&ns, &spec)?;
        if let Some(meta) = body.meta {
            if adjust {
                spec.adjust_work_unit_priorities(&query, meta.priority)
            } else {
                spec.set_work_unit_priorities(&query, meta.priority)
            }
            .map_err(store)?;
        }
        Ok(no_content())
    })
    .await
}

/// `GET …/work_spec/{spec}/summary`.
pub async fn summary(
    call: StoreCall,
    Path((ns, spec)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (ns, spec) = (name(&ns)?, name(&spec)?);
    call.run(move |s| {
        let (_, spec) = s.work_spec(&ns, &spec)?;
        Ok(ok(&represent::summary(spec.summarize().map_err(store)?)))
    })
    .await
}
