//! The overview (`/`): every namespace, its work specs with their counts
//! and last hour, and its live workers; and one namespace's part of it
//! (`/namespace/{ns}`).

use askama::Template;
use axum::extract::Path;
use axum::response::Response;
use chrono::Utc;

use super::counts::{Chart, Counts, SpecCounts, CHART_HEIGHT, CHART_WIDTH};
use super::view::{self, page, Chrome};
use super::viewer::Viewer;
use crate::routes::support::{name, store};
use crate::routes::urls::Urls;
use crate::store::StoreCall;

/// One namespace on the page.
pub struct NamespaceView {
    /// Its name, shown.
    pub name: String,
    /// Its page.
    pub href: String,
    /// Its workers page.
    pub workers_href: String,
    /// Workers whose last report is still current.
    pub live_workers: usize,
    /// Workers it knows of.
    pub workers: usize,
    /// Its specs, by name.
    pub specs: Vec<SpecRow>,
}

/// One spec's row.
pub struct SpecRow {
    /// Its name, shown.
    pub name: String,
    /// Its page.
    pub href: String,
    /// Its counts.
    pub counts: SpecCounts,
    /// Its last hour.
    pub chart: Chart,
}

/// The overview page.
#[derive(Template)]
#[template(path = "overview.html")]
pub struct OverviewPage {
    /// The frame.
    pub chrome: Chrome,
    /// The namespaces shown.
    pub namespaces: Vec<NamespaceView>,
    /// When the counts were sampled.
    pub as_of: String,
    /// The chart's size.
    pub chart_width: usize,
    /// See `chart_width`.
    pub chart_height: usize,
}

/// `GET /` (HTML).
pub async fn overview(viewer: Viewer, call: StoreCall) -> Response {
    render(viewer, call, None).await
}

/// `GET /namespace/{ns}` (HTML).
pub async fn namespace(viewer: Viewer, call: StoreCall, Path(ns): Path<String>) -> Response {
    let prefix = viewer.state().config().path_prefix.clone();
    match name(&ns) {
        Ok(ns) => render(viewer, call, Some(ns)).await,
        Err(e) => view::store_error(&prefix, e),
    }
}

async fn render(viewer: Viewer, call: StoreCall, only: Option<String>) -> Response {
    let prefix = viewer.state().config().path_prefix.clone();
    let urls = Urls::new(&prefix);
    let one = only.clone();
    let listed = call
        .run(move |s| {
            let now = Utc::now();
            let namespaces = match &one {
                Some(ns) => vec![s.namespace(ns)?],
                None => s.coordinate().namespaces().map_err(store)?,
            };
            let mut out = Vec::new();
            for namespace in namespaces {
                let mut specs = namespace.work_spec_names().map_err(store)?;
                specs.sort();
                let workers = namespace.workers().map_err(store)?;
                let mut live = 0;
                for worker in &workers {
                    if worker.active().map_err(store)? && worker.expiration().map_err(store)? > now
                    {
                        live += 1;
                    }
                }
                out.push((namespace.name().to_owned(), specs, live, workers.len()));
            }
            out.sort_by(|a, b| a.0.cmp(&b.0));
            Ok(out)
        })
        .await;
    let listed = match listed {
        Ok(listed) => listed,
        Err(e) => return view::store_error(&prefix, e),
    };
    let sampler = viewer.state().sampler().clone();
    let counts = Counts::latest(&sampler);
    let now = Utc::now();
    let namespaces = listed
        .into_iter()
        .map(|(ns, specs, live_workers, workers)| NamespaceView {
            name: view::shown(&ns),
            href: urls.namespace(&ns),
            workers_href: urls.in_namespace(&ns, "/worker"),
            live_workers,
            workers,
            specs: specs
                .into_iter()
                .map(|spec| SpecRow {
                    name: view::shown(&spec),
                    href: urls.work_spec(&ns, &spec),
                    counts: counts.of(&ns, &spec),
                    chart: Chart::of(&sampler, &ns, &spec, now),
                })
                .collect(),
        })
        .collect();
    let (title, crumbs) = match &only {
        Some(ns) => (
            format!("Namespace {}", view::shown(ns)),
            vec![(view::shown(ns), urls.namespace(ns))],
        ),
        None => ("Overview".to_owned(), Vec::new()),
    };
    let page_view = OverviewPage {
        chrome: viewer.chrome(title, crumbs),
        namespaces,
        as_of: counts.as_of(now),
        chart_width: CHART_WIDTH,
        chart_height: CHART_HEIGHT,
    };
    viewer.respond(page(&page_view))
}
