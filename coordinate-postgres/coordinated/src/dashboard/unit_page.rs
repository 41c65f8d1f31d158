//! A work unit's page: status, priority, data (in the `coordinate`
//! command's CBOR→JSON mapping, so bytes and tags show), and every attempt
//! with its worker, times, status and traceback.

use askama::Template;
use axum::extract::Path;
use axum::response::Response;
use chrono::Utc;
use coordinate_api::{AttemptStatus, Value, WorkUnitStatus};
use coordinate_rest::data_json::data_to_json;

use super::view::{self, page, Chrome};
use super::viewer::Viewer;
use crate::routes::support::{name, store};
use crate::routes::urls::Urls;
use crate::store::StoreCall;

/// Tracebacks longer than this many lines are folded.
const FOLD_LINES: usize = 12;

/// One attempt's row.
pub struct AttemptRow {
    /// Its worker, shown.
    pub worker: String,
    /// The worker's entry on the workers page.
    pub worker_href: String,
    /// Start time.
    pub start: String,
    /// End time, if it ended.
    pub end: String,
    /// Expiry time.
    pub expires: String,
    /// Its status.
    pub status: &'static str,
    /// Whether it is the unit's active attempt.
    pub active: bool,
    /// Its traceback, if it failed with one.
    pub traceback: String,
    /// Whether the traceback is long enough to fold.
    pub fold: bool,
}

/// The unit page.
#[derive(Template)]
#[template(path = "unit.html")]
pub struct UnitPage {
    /// The frame.
    pub chrome: Chrome,
    /// The namespace, spec and unit names as given (for forms).
    pub namespace: String,
    /// See `namespace`.
    pub spec: String,
    /// See `namespace`.
    pub unit: String,
    /// This page.
    pub here: String,
    /// The spec's page (where a deletion returns to).
    pub spec_href: String,
    /// Its status.
    pub status: &'static str,
    /// Its priority.
    pub priority: String,
    /// Not available before this time, if delayed.
    pub not_before: String,
    /// Its data as pretty JSON.
    pub data: String,
    /// Its attempts, newest first.
    pub attempts: Vec<AttemptRow>,
    /// Whether a pending attempt can be cancelled.
    pub cancellable: bool,
    /// Whether it failed (and can be retried).
    pub failed: bool,
}

/// `GET …/work_unit/{unit}` (HTML).
pub async fn unit_page(
    viewer: Viewer,
    call: StoreCall,
    Path((ns, spec, unit)): Path<(String, String, String)>,
) -> Response {
    let prefix = viewer.state().config().path_prefix.clone();
    let (ns, spec, unit) = match (name(&ns), name(&spec), name(&unit)) {
        (Ok(ns), Ok(spec), Ok(unit)) => (ns, spec, unit),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return view::store_error(&prefix, e),
    };
    let urls = Urls::new(&prefix);
    let (n, s, u) = (ns.clone(), spec.clone(), unit.clone());
    let loaded = call
        .run(move |scope| {
            let (_, handle) = scope.work_unit(&n, &s, &u)?;
            let status = handle.status().map_err(store)?;
            let meta = handle.meta().map_err(store)?;
            let data = handle.data().map_err(store)?;
            let active = handle.active_attempt().map_err(store)?;
            let mut attempts = Vec::new();
            for attempt in handle.attempts().map_err(store)? {
                let is_active = active.as_ref().is_some_and(|a| {
                    a.worker().name() == attempt.worker().name()
                        && a.start_time().ok() == attempt.start_time().ok()
                });
                attempts.push((
                    attempt.worker().name().to_owned(),
                    attempt.start_time().map_err(store)?,
                    attempt.end_time().map_err(store)?,
                    attempt.expiration_time().map_err(store)?,
                    attempt.status().map_err(store)?,
                    attempt.data().map_err(store)?,
                    is_active,
                ));
            }
            Ok((status, meta, data, attempts))
        })
        .await;
    let (status, meta, data, mut attempts) = match loaded {
        Ok(loaded) => loaded,
        Err(e) => return view::store_error(&prefix, e),
    };
    attempts.sort_by_key(|a| std::cmp::Reverse(a.1));
    let now = Utc::now();
    let cancellable = attempts
        .iter()
        .any(|a| a.6 && a.4 == AttemptStatus::Pending);
    let rows = attempts
        .into_iter()
        .map(|(worker, start, end, expires, status, data, active)| {
            let traceback = match data.get("traceback") {
                Some(Value::Text(text)) => text.clone(),
                _ => String::new(),
            };
            AttemptRow {
                worker_href: format!(
                    "{}#worker-{}",
                    urls.in_namespace(&ns, "/worker"),
                    anchor(&worker)
                ),
                worker: view::shown(&worker),
                start: view::time(start),
                end: end.map(view::time).unwrap_or_default(),
                expires: format!("{} ({})", view::time(expires), view::relative(expires, now)),
                status: status.as_str(),
                active,
                fold: traceback.lines().count() > FOLD_LINES,
                traceback,
            }
        })
        .collect();
    let spec_href = urls.work_spec(&ns, &spec);
    let here = urls.work_unit(&ns, &spec, &unit);
    let crumbs = vec![
        (view::shown(&ns), urls.namespace(&ns)),
        (view::shown(&spec), spec_href.clone()),
        (view::shown(&unit), here.clone()),
    ];
    let page_view = UnitPage {
        chrome: viewer.chrome(format!("Work unit {}", view::shown(&unit)), crumbs),
        status: status.as_str(),
        priority: meta.priority.to_string(),
        not_before: meta.not_before.map(view::time).unwrap_or_default(),
        data: serde_json::to_string_pretty(&data_to_json(&data)).unwrap_or_default(),
        attempts: rows,
        cancellable,
        failed: status == WorkUnitStatus::Failed,
        namespace: ns,
        spec,
        unit,
        here,
        spec_href,
    };
    viewer.respond(page(&page_view))
}

/// A worker name as an HTML id fragment (hex, so any name fits).
pub fn anchor(worker: &str) -> String {
    worker.bytes().map(|b| format!("{b:02x}")).collect()
}
