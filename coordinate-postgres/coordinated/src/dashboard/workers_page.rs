//! A namespace's workers (`/namespace/{ns}/worker`): the tree of parents
//! and children, each with its mode, last report, expiry and active
//! attempts; a worker whose report ran out (or that was deactivated) is
//! dead, and its attempts can be released.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::Path;
use axum::response::Response;
use chrono::{DateTime, Utc};

use super::unit_page::anchor;
use super::view::{self, page, Chrome};
use super::viewer::Viewer;
use crate::routes::support::{name, store};
use crate::routes::urls::Urls;
use crate::store::StoreCall;

/// Deepest indentation shown (deeper children stay at this depth).
const MAX_DEPTH: usize = 6;

/// One worker's row, in tree order.
pub struct WorkerRow {
    /// Its name as given (for the release form).
    pub raw_name: String,
    /// Its name, shown.
    pub name: String,
    /// Its id on the page.
    pub anchor: String,
    /// Its depth in the tree (0 for a root).
    pub depth: usize,
    /// Its mode.
    pub mode: String,
    /// Its last report.
    pub last_update: String,
    /// When its report runs out.
    pub expires: String,
    /// Whether it is dead.
    pub dead: bool,
    /// Attempts it holds.
    pub active_attempts: usize,
}

/// The workers page.
#[derive(Template)]
#[template(path = "workers.html")]
pub struct WorkersPage {
    /// The frame.
    pub chrome: Chrome,
    /// The namespace's name as given (for forms).
    pub namespace: String,
    /// This page.
    pub here: String,
    /// The workers, parents before their children.
    pub workers: Vec<WorkerRow>,
    /// Live ones.
    pub live: usize,
}

/// What the page needs of one worker.
struct Known {
    parent: Option<String>,
    mode: String,
    last_update: DateTime<Utc>,
    expires: DateTime<Utc>,
    active: bool,
    attempts: usize,
}

/// `GET /namespace/{ns}/worker` (HTML).
pub async fn workers_page(viewer: Viewer, call: StoreCall, Path(ns): Path<String>) -> Response {
    let prefix = viewer.state().config().path_prefix.clone();
    let ns = match name(&ns) {
        Ok(ns) => ns,
        Err(e) => return view::store_error(&prefix, e),
    };
    let n = ns.clone();
    let loaded = call
        .run(move |s| {
            let namespace = s.namespace(&n)?;
            let mut known = BTreeMap::new();
            for worker in namespace.workers().map_err(store)? {
                known.insert(
                    worker.name().to_owned(),
                    Known {
                        parent: worker.parent().map_err(store)?.map(|p| p.name().to_owned()),
                        mode: worker.mode().map_err(store)?,
                        last_update: worker.last_update().map_err(store)?,
                        expires: worker.expiration().map_err(store)?,
                        active: worker.active().map_err(store)?,
                        attempts: worker.active_attempts().map_err(store)?.len(),
                    },
                );
            }
            Ok(known)
        })
        .await;
    let known = match loaded {
        Ok(known) => known,
        Err(e) => return view::store_error(&prefix, e),
    };
    let now = Utc::now();
    let mut rows = Vec::new();
    let roots: Vec<&String> = known
        .iter()
        .filter(|(_, k)| k.parent.as_ref().is_none_or(|p| !known.contains_key(p)))
        .map(|(name, _)| name)
        .collect();
    // Depth first, children by name; `seen` stops a cycle.
    let mut stack: Vec<(&String, usize)> = roots.into_iter().rev().map(|r| (r, 0)).collect();
    let mut seen = std::collections::HashSet::new();
    while let Some((worker, depth)) = stack.pop() {
        if !seen.insert(worker) {
            continue;
        }
        let k = &known[worker];
        rows.push(WorkerRow {
            raw_name: worker.clone(),
            name: view::shown(worker),
            anchor: anchor(worker),
            depth: depth.min(MAX_DEPTH),
            mode: view::shown(&k.mode),
            last_update: format!(
                "{} ({})",
                view::time(k.last_update),
                view::relative(k.last_update, now)
            ),
            expires: format!(
                "{} ({})",
                view::time(k.expires),
                view::relative(k.expires, now)
            ),
            dead: !k.active || k.expires <= now,
            active_attempts: k.attempts,
        });
        let children = known
            .iter()
            .filter(|(_, c)| c.parent.as_ref() == Some(worker))
            .map(|(name, _)| name)
            .rev();
        stack.extend(children.map(|c| (c, depth + 1)));
    }
    let urls = Urls::new(&prefix);
    let here = urls.in_namespace(&ns, "/worker");
    let live = rows.iter().filter(|r| !r.dead).count();
    let crumbs = vec![
        (view::shown(&ns), urls.namespace(&ns)),
        ("workers".to_owned(), here.clone()),
    ];
    let page_view = WorkersPage {
        chrome: viewer.chrome(format!("Workers of {}", view::shown(&ns)), crumbs),
        namespace: ns,
        here,
        workers: rows,
        live,
    };
    viewer.respond(page(&page_view))
}
