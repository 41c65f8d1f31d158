//! Handles to wire shapes: each function reads what the representation
//! needs from the store (a blocking call) and fills in the URLs.

use std::sync::Arc;

use coordinate_api::{Attempt, Summary, WorkUnit, Worker};
use coordinate_rest::wire::shapes;
use coordinate_rest::wire::values::SummaryRecordJson;
use coordinate_rest::wire::DataDict;

use super::support::store;
use super::urls::Urls;
use crate::error::ApiError;

/// A summary as go writes it.
pub fn summary(summary: Summary) -> Vec<SummaryRecordJson> {
    summary.into_iter().map(SummaryRecordJson::from).collect()
}

/// Data in its wire form.
pub fn data(data: &coordinate_api::Data) -> Result<DataDict, ApiError> {
    DataDict::encode(data).map_err(store)
}

/// A namespace with its URLs.
pub fn namespace(urls: &Urls, ns: &str) -> shapes::Namespace {
    shapes::Namespace {
        url: urls.namespace(ns),
        name: ns.to_owned(),
        summary_url: urls.in_namespace(ns, "/summary"),
        work_specs_url: urls.in_namespace(ns, "/work_spec"),
        work_spec_url: urls.in_namespace(ns, "/work_spec/{spec}"),
        workers_url: urls.in_namespace(ns, "/worker"),
        worker_url: urls.in_namespace(ns, "/worker/{worker}"),
    }
}

/// A work spec with its URLs and definition.
pub fn work_spec(urls: &Urls, ns: &str, spec: &str, data: Option<DataDict>) -> shapes::WorkSpec {
    let url = urls.work_spec(ns, spec);
    let query = "{?name*,status*,previous,limit}";
    shapes::WorkSpec {
        url: url.clone(),
        name: spec.to_owned(),
        data,
        summary_url: format!("{url}/summary"),
        work_units_url: format!("{url}/work_unit"),
        work_unit_query_url: format!("{url}/work_unit{query}"),
        work_unit_url: format!("{url}/work_unit/{{unit}}"),
        work_unit_counts_url: format!("{url}/counts"),
        work_unit_change_url: format!("{url}/change{query}"),
        work_unit_adjust_url: format!("{url}/adjust{query}"),
        meta_url: format!("{url}/meta{{?counts}}"),
    }
}

/// A work unit in full.
pub fn work_unit(
    urls: &Urls,
    ns: &str,
    unit: &Arc<dyn WorkUnit>,
) -> Result<shapes::WorkUnit, ApiError> {
    let spec = unit.work_spec();
    let url = urls.work_unit(ns, spec.name(), unit.name());
    let active = unit.active_attempt().map_err(store)?;
    let active_attempt_url = match active {
        Some(attempt) => Some(attempt_url(urls, ns, &attempt)?),
        None => None,
    };
    Ok(shapes::WorkUnit {
        url: url.clone(),
        name: unit.name().to_owned(),
        data: Some(data(&unit.data().map_err(store)?)?),
        meta: Some(unit.meta().map_err(store)?.into()),
        status: Some(unit.status().map_err(store)?),
        work_spec_url: urls.work_spec(ns, spec.name()),
        active_attempt_url,
        attempts_url: format!("{url}/attempts"),
    })
}

/// A worker in full.
pub fn worker(urls: &Urls, ns: &str, worker: &Arc<dyn Worker>) -> Result<shapes::Worker, ApiError> {
    let url = urls.worker(ns, worker.name());
    let parent = worker.parent().map_err(store)?;
    let children = worker.children().map_err(store)?;
    let mut child_urls: Vec<String> = children.iter().map(|c| urls.worker(ns, c.name())).collect();
    child_urls.sort();
    Ok(shapes::Worker {
        url: url.clone(),
        name: worker.name().to_owned(),
        parent: parent.as_ref().map(|p| p.name().to_owned()),
        parent_url: parent.as_ref().map(|p| urls.worker(ns, p.name())),
        child_urls,
        active: Some(worker.active().map_err(store)?),
        mode: worker.mode().map_err(store)?,
        data: Some(data(&worker.data().map_err(store)?)?),
        expiration: Some(worker.expiration().map_err(store)?),
        last_update: Some(worker.last_update().map_err(store)?),
        request_attempts_url: format!("{url}/request_attempts"),
        make_attempt_url: format!("{url}/make_attempt"),
        active_attempts_url: format!("{url}/active_attempts"),
        all_attempts_url: format!("{url}/all_attempts"),
        child_attempts_url: format!("{url}/child_attempts"),
    })
}

/// An attempt's URL.
pub fn attempt_url(urls: &Urls, ns: &str, attempt: &Arc<dyn Attempt>) -> Result<String, ApiError> {
    let unit = attempt.work_unit();
    let spec = unit.work_spec();
    let start = attempt.start_time().map_err(store)?;
    Ok(urls.attempt(ns, spec.name(), unit.name(), attempt.worker().name(), start))
}

/// An attempt's URL and identity.
pub fn attempt_short(
    urls: &Urls,
    ns: &str,
    attempt: &Arc<dyn Attempt>,
) -> Result<shapes::AttemptShort, ApiError> {
    let unit = attempt.work_unit();
    let spec = unit.work_spec();
    Ok(shapes::AttemptShort {
        url: attempt_url(urls, ns, attempt)?,
        work_unit_url: urls.work_unit(ns, spec.name(), unit.name()),
        worker_url: urls.worker(ns, attempt.worker().name()),
        start_time: attempt.start_time().map_err(store)?,
    })
}

/// A list of attempts.
pub fn attempt_list(
    urls: &Urls,
    ns: &str,
    attempts: &[Arc<dyn Attempt>],
) -> Result<shapes::AttemptList, ApiError> {
    Ok(shapes::AttemptList {
        attempts: attempts
            .iter()
            .map(|a| attempt_short(urls, ns, a))
            .collect::<Result<_, _>>()?,
    })
}

/// An attempt in full.
pub fn attempt(
    urls: &Urls,
    ns: &str,
    attempt: &Arc<dyn Attempt>,
) -> Result<shapes::Attempt, ApiError> {
    let short = attempt_short(urls, ns, attempt)?;
    let url = short.url.clone();
    Ok(shapes::Attempt {
        url: short.url,
        work_unit_url: short.work_unit_url,
        worker_url: short.worker_url,
        start_time: short.start_time,
        status: attempt.status().map_err(store)?,
        data: Some(data(&attempt.data().map_err(store)?)?),
        end_time: attempt.end_time().map_err(store)?,
        expiration_time: attempt.expiration_time().map_err(store)?,
        renew_url: format!("{url}/renew"),
        expire_url: format!("{url}/expire"),
        finish_url: format!("{url}/finish"),
        fail_url: format!("{url}/fail"),
        retry_url: format!("{url}/retry"),
    })
}
