//! Handles to wire shapes: each function reads what the representation
//! needs from the store (a blocking call) and fills in the URLs, minted
//! from the handles themselves (see [`super::links`]).

use std::sync::Arc;

use coordinate_api::{Attempt, Namespace, Summary, WorkSpec, WorkUnit, Worker};
use coordinate_rest::wire::shapes;
use coordinate_rest::wire::values::SummaryRecordJson;
use coordinate_rest::wire::DataDict;

use super::links::Link;
use super::scope::Scope;
use super::support::store;
use crate::error::ApiError;

/// The query variables of go's work unit query templates.
const UNIT_QUERY: &str = "name*,status*,previous,limit";

/// A summary as go writes it.
pub fn summary(summary: Summary) -> Vec<SummaryRecordJson> {
    summary.into_iter().map(SummaryRecordJson::from).collect()
}

/// Data in its wire form.
pub fn data(data: &coordinate_api::Data) -> Result<DataDict, ApiError> {
    DataDict::encode(data).map_err(store)
}

/// A namespace with its URLs.
pub fn namespace(s: &Scope<'_>, ns: &Arc<dyn Namespace>) -> shapes::Namespace {
    let link = s.namespace_link(ns);
    shapes::Namespace {
        url: link.url(),
        name: ns.name().to_owned(),
        summary_url: link.below("/summary"),
        work_specs_url: link.below("/work_spec"),
        work_spec_url: link.below("/work_spec/{spec}"),
        workers_url: link.below("/worker"),
        worker_url: link.below("/worker/{worker}"),
    }
}

/// A work spec's URL and name.
pub fn work_spec_short(
    s: &Scope<'_>,
    ns: &Arc<dyn Namespace>,
    spec: &Arc<dyn WorkSpec>,
) -> shapes::WorkSpecShort {
    shapes::WorkSpecShort {
        url: s.work_spec_link(ns, spec).url(),
        name: spec.name().to_owned(),
    }
}

/// A work spec with its URLs and definition.
pub fn work_spec(
    s: &Scope<'_>,
    ns: &Arc<dyn Namespace>,
    spec: &Arc<dyn WorkSpec>,
    data: Option<DataDict>,
) -> shapes::WorkSpec {
    let link = s.work_spec_link(ns, spec);
    shapes::WorkSpec {
        url: link.url(),
        name: spec.name().to_owned(),
        data,
        summary_url: link.below("/summary"),
        work_units_url: link.below("/work_unit"),
        work_unit_query_url: link.query_template("/work_unit", UNIT_QUERY),
        work_unit_url: link.below("/work_unit/{unit}"),
        work_unit_counts_url: link.below("/counts"),
        work_unit_change_url: link.query_template("/change", UNIT_QUERY),
        work_unit_adjust_url: link.query_template("/adjust", UNIT_QUERY),
        meta_url: link.query_template("/meta", "counts"),
    }
}

/// A work unit's URL and name.
pub fn work_unit_short(
    s: &Scope<'_>,
    ns: &Arc<dyn Namespace>,
    unit: &Arc<dyn WorkUnit>,
) -> shapes::WorkUnitShort {
    shapes::WorkUnitShort {
        url: s.work_unit_link(ns, unit).url(),
        name: unit.name().to_owned(),
    }
}

/// A work unit in full.
pub fn work_unit(
    s: &Scope<'_>,
    ns: &Arc<dyn Namespace>,
    unit: &Arc<dyn WorkUnit>,
) -> Result<shapes::WorkUnit, ApiError> {
    let link = s.work_unit_link(ns, unit);
    let active = unit.active_attempt().map_err(store)?;
    let active_attempt_url = match active {
        Some(attempt) => Some(attempt_url(s, ns, &attempt)?),
        None => None,
    };
    Ok(shapes::WorkUnit {
        url: link.url(),
        name: unit.name().to_owned(),
        data: Some(data(&unit.data().map_err(store)?)?),
        meta: Some(unit.meta().map_err(store)?.into()),
        status: Some(unit.status().map_err(store)?),
        work_spec_url: s.work_spec_link(ns, &unit.work_spec()).url(),
        active_attempt_url,
        attempts_url: link.below("/attempts"),
    })
}

/// A worker's URL and name.
pub fn worker_short(
    s: &Scope<'_>,
    ns: &Arc<dyn Namespace>,
    worker: &Arc<dyn Worker>,
) -> shapes::WorkerShort {
    shapes::WorkerShort {
        url: s.worker_link(ns, worker).url(),
        name: worker.name().to_owned(),
    }
}

/// A worker in full.
pub fn worker(
    s: &Scope<'_>,
    ns: &Arc<dyn Namespace>,
    worker: &Arc<dyn Worker>,
) -> Result<shapes::Worker, ApiError> {
    let link = s.worker_link(ns, worker);
    let parent = worker.parent().map_err(store)?;
    let mut children = worker.children().map_err(store)?;
    children.sort_by(|a, b| a.name().cmp(b.name()));
    Ok(shapes::Worker {
        url: link.url(),
        name: worker.name().to_owned(),
        parent: parent.as_ref().map(|p| p.name().to_owned()),
        parent_url: parent.as_ref().map(|p| s.worker_link(ns, p).url()),
        child_urls: children
            .iter()
            .map(|c| s.worker_link(ns, c).url())
            .collect(),
        active: Some(worker.active().map_err(store)?),
        mode: worker.mode().map_err(store)?,
        data: Some(data(&worker.data().map_err(store)?)?),
        expiration: Some(worker.expiration().map_err(store)?),
        last_update: Some(worker.last_update().map_err(store)?),
        request_attempts_url: link.below("/request_attempts"),
        make_attempt_url: link.below("/make_attempt"),
        active_attempts_url: link.below("/active_attempts"),
        all_attempts_url: link.below("/all_attempts"),
        child_attempts_url: link.below("/child_attempts"),
    })
}

/// An attempt's URL.
pub fn attempt_url(
    s: &Scope<'_>,
    ns: &Arc<dyn Namespace>,
    attempt: &Arc<dyn Attempt>,
) -> Result<String, ApiError> {
    let start = attempt.start_time().map_err(store)?;
    Ok(s.attempt_link(ns, attempt, start).url())
}

/// An attempt's URL and identity.
pub fn attempt_short(
    s: &Scope<'_>,
    ns: &Arc<dyn Namespace>,
    attempt: &Arc<dyn Attempt>,
) -> Result<shapes::AttemptShort, ApiError> {
    Ok(attempt_linked(s, ns, attempt)?.1)
}

/// An attempt's link, and its URL and identity.
fn attempt_linked(
    s: &Scope<'_>,
    ns: &Arc<dyn Namespace>,
    attempt: &Arc<dyn Attempt>,
) -> Result<(Link, shapes::AttemptShort), ApiError> {
    let start_time = attempt.start_time().map_err(store)?;
    let link = s.attempt_link(ns, attempt, start_time);
    let short = shapes::AttemptShort {
        url: link.url(),
        work_unit_url: s.work_unit_link(ns, &attempt.work_unit()).url(),
        worker_url: s.worker_link(ns, &attempt.worker()).url(),
        start_time,
    };
    Ok((link, short))
}

/// A list of attempts.
pub fn attempt_list(
    s: &Scope<'_>,
    ns: &Arc<dyn Namespace>,
    attempts: &[Arc<dyn Attempt>],
) -> Result<shapes::AttemptList, ApiError> {
    Ok(shapes::AttemptList {
        attempts: attempts
            .iter()
            .map(|a| attempt_short(s, ns, a))
            .collect::<Result<_, _>>()?,
    })
}

/// An attempt in full.
pub fn attempt(
    s: &Scope<'_>,
    ns: &Arc<dyn Namespace>,
    attempt: &Arc<dyn Attempt>,
) -> Result<shapes::Attempt, ApiError> {
    let (link, short) = attempt_linked(s, ns, attempt)?;
    Ok(shapes::Attempt {
        url: short.url,
        work_unit_url: short.work_unit_url,
        worker_url: short.worker_url,
        start_time: short.start_time,
        status: attempt.status().map_err(store)?,
        data: Some(data(&attempt.data().map_err(store)?)?),
        end_time: attempt.end_time().map_err(store)?,
        expiration_time: attempt.expiration_time().map_err(store)?,
        renew_url: link.below("/renew"),
        expire_url: link.below("/expire"),
        finish_url: link.below("/finish"),
        fail_url: link.below("/fail"),
        retry_url: link.below("/retry"),
        work_unit: Some(attempt.work_unit().name().to_owned()),
    })
}
