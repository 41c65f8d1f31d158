//! A work spec's page (`/namespace/{ns}/work_spec/{spec}`): its settings,
//! its counts, and its units in a table filtered by status, starting at a
//! name, paged by name (keyset: each page asks for the units after the
//! last one shown, so page 20,000 costs what page 1 does).

use askama::Template;
use axum::extract::{Path, RawQuery};
use axum::response::Response;
use chrono::Utc;
use coordinate_api::{WorkUnitQuery, WorkUnitStatus};

use super::counts::{Counts, SpecCounts};
use super::view::{self, page, Chrome};
use super::viewer::Viewer;
use crate::routes::support::{name, query_pairs, store};
use crate::routes::urls::Urls;
use crate::store::StoreCall;

/// Units per page.
pub const PAGE_SIZE: usize = 50;

/// A setting and its value, shown.
pub struct Setting {
    /// The setting's name.
    pub name: &'static str,
    /// Its value.
    pub value: String,
}

/// One unit's row.
pub struct UnitRow {
    /// The name as given (for the selection checkbox).
    pub raw_name: String,
    /// The name, shown.
    pub name: String,
    /// Its page.
    pub href: String,
    /// Its status.
    pub status: &'static str,
    /// Its priority.
    pub priority: String,
}

/// The spec page.
#[derive(Template)]
#[template(path = "spec.html")]
pub struct SpecPage {
    /// The frame.
    pub chrome: Chrome,
    /// The namespace's name as given (for forms).
    pub namespace: String,
    /// The spec's name as given (for forms).
    pub spec: String,
    /// This page's path and query (where actions come back to).
    pub here: String,
    /// This page without its query.
    pub base: String,
    /// Whether the spec is paused.
    pub paused: bool,
    /// Its priority and weight (for the form).
    pub priority: i32,
    /// See `priority`.
    pub weight: i32,
    /// Every setting.
    pub settings: Vec<Setting>,
    /// Its counts.
    pub counts: SpecCounts,
    /// Failed units, for "retry all".
    pub failed: String,
    /// When the counts were sampled.
    pub as_of: String,
    /// The status filter (`""` for all).
    pub status: String,
    /// The first name shown (`from`), if asked.
    pub from: String,
    /// The units of this page.
    pub units: Vec<UnitRow>,
    /// The next page, if there is one.
    pub next: Option<String>,
}

/// The table's filter, from the query string.
struct Filter {
    status: Option<WorkUnitStatus>,
    from: Option<String>,
    after: Option<String>,
}

impl Filter {
    fn parse(query: Option<&str>) -> Result<Filter, String> {
        let mut filter = Filter {
            status: None,
            from: None,
            after: None,
        };
        for (key, value) in query_pairs(query) {
            match key.as_str() {
                "status" if value.is_empty() => {}
                "status" => {
                    filter.status = Some(
                        WorkUnitStatus::ALL
                            .into_iter()
                            .find(|s| s.as_str() == value)
                            .ok_or_else(|| format!("{value:?} is not a work unit status"))?,
                    );
                }
                "from" if !value.is_empty() => filter.from = Some(value),
                "after" => filter.after = Some(value),
                _ => {}
            }
        }
        Ok(filter)
    }

    /// The query string of the page after `last`.
    fn next_page(&self, last: &str) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        if let Some(status) = self.status {
            query.append_pair("status", status.as_str());
        }
        query.append_pair("after", last);
        query.finish()
    }
}

/// `GET …/work_spec/{spec}` (HTML).
pub async fn spec_page(
    viewer: Viewer,
    call: StoreCall,
    Path((ns, spec)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Response {
    let prefix = viewer.state().config().path_prefix.clone();
    let (ns, spec) = match (name(&ns), name(&spec)) {
        (Ok(ns), Ok(spec)) => (ns, spec),
        (Err(e), _) | (_, Err(e)) => return view::store_error(&prefix, e),
    };
    let filter = match Filter::parse(query.as_deref()) {
        Ok(filter) => filter,
        Err(why) => return view::message(axum::http::StatusCode::BAD_REQUEST, &prefix, why),
    };
    let urls = Urls::new(&prefix);
    let (ns_name, spec_name) = (ns.clone(), spec.clone());
    let statuses: Vec<WorkUnitStatus> = filter.status.into_iter().collect();
    let (from, after) = (filter.from.clone(), filter.after.clone());
    let loaded = call
        .run(move |s| {
            let (_, handle) = s.work_spec(&ns_name, &spec_name)?;
            let meta = handle.meta(false).map_err(store)?;
            let mut units = Vec::new();
            if let Some(from) = &from {
                // "Starting at" includes the unit of that very name.
                units.extend(
                    handle
                        .work_units(&WorkUnitQuery {
                            names: vec![from.clone()],
                            statuses: statuses.clone(),
                            ..WorkUnitQuery::default()
                        })
                        .map_err(store)?,
                );
            }
            let page = handle
                .work_units(&WorkUnitQuery {
                    statuses,
                    previous_name: from.or(after),
                    limit: Some(PAGE_SIZE + 1 - units.len()),
                    ..WorkUnitQuery::default()
                })
                .map_err(store)?;
            units.extend(page);
            let mut rows = Vec::new();
            for unit in &units {
                rows.push((
                    unit.name().to_owned(),
                    unit.status().map_err(store)?,
                    unit.priority().map_err(store)?,
                ));
            }
            Ok((meta, rows))
        })
        .await;
    let (meta, mut rows) = match loaded {
        Ok(loaded) => loaded,
        Err(e) => return view::store_error(&prefix, e),
    };
    let next = (rows.len() > PAGE_SIZE).then(|| {
        rows.truncate(PAGE_SIZE);
        let last = rows.last().map(|r| r.0.clone()).unwrap_or_default();
        format!("{}?{}", urls.work_spec(&ns, &spec), filter.next_page(&last))
    });
    let counts = Counts::latest(viewer.state().sampler());
    let spec_counts = counts.of(&ns, &spec);
    let base = urls.work_spec(&ns, &spec);
    let here = match &query {
        Some(q) if !q.is_empty() => format!("{base}?{q}"),
        _ => base.clone(),
    };
    let settings = vec![
        Setting {
            name: "Paused",
            value: yes_no(meta.paused),
        },
        Setting {
            name: "Priority",
            value: meta.priority.to_string(),
        },
        Setting {
            name: "Weight",
            value: meta.weight.to_string(),
        },
        Setting {
            name: "Continuous",
            value: yes_no(meta.continuous),
        },
        Setting {
            name: "Interval",
            value: interval(meta.interval),
        },
        Setting {
            name: "Max running",
            value: limit(meta.max_running),
        },
        Setting {
            name: "Max retries",
            value: limit(meta.max_retries),
        },
        Setting {
            name: "Then",
            value: if meta.next_work_spec_name.is_empty() {
                "(none)".to_owned()
            } else {
                view::shown(&meta.next_work_spec_name)
            },
        },
        Setting {
            name: "Runtime",
            value: if meta.runtime.is_empty() {
                "(any)".to_owned()
            } else {
                view::shown(&meta.runtime)
            },
        },
    ];
    let title = format!("Work spec {}", view::shown(&spec));
    let crumbs = vec![
        (view::shown(&ns), urls.namespace(&ns)),
        (view::shown(&spec), base.clone()),
    ];
    let page_view = SpecPage {
        chrome: viewer.chrome(title, crumbs),
        failed: view::count(spec_counts.of(WorkUnitStatus::Failed)),
        counts: spec_counts,
        as_of: counts.as_of(Utc::now()),
        paused: meta.paused,
        priority: meta.priority,
        weight: meta.weight,
        settings,
        status: filter
            .status
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        from: filter.from.clone().unwrap_or_default(),
        units: rows
            .into_iter()
            .map(|(unit, status, priority)| UnitRow {
                name: view::shown(&unit),
                href: urls.work_unit(&ns, &spec, &unit),
                raw_name: unit,
                status: status.as_str(),
                priority: priority.to_string(),
            })
            .collect(),
        next,
        namespace: ns,
        spec,
        here,
        base,
    };
    viewer.respond(page(&page_view))
}

/// A continuous spec's interval: whole seconds, or `none`.
fn interval(every: std::time::Duration) -> String {
    if every.is_zero() {
        "none".to_owned()
    } else if every.subsec_millis() == 0 {
        format!("{}s", every.as_secs())
    } else {
        format!("{:.3}s", every.as_secs_f64())
    }
}

fn yes_no(flag: bool) -> String {
    if flag { "yes" } else { "no" }.to_owned()
}

fn limit(n: i32) -> String {
    if n <= 0 {
        "no limit".to_owned()
    } else {
        n.to_string()
    }
}
