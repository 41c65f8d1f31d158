//! The `dashboard` section (issue 22): the server time of `coordinated`'s
//! dashboard pages with 100 work specs and 1,000,000 units, and what one
//! summary of that store costs (the sampler behind the pages and
//! `/metrics` takes one every two seconds while a page is open).
//!
//! Rows: `dashboard/overview`, `dashboard/spec` (the big spec's page),
//! `dashboard/units-first` and `dashboard/units-900k` (its units table at
//! the first name and after unit 900,000: keyset paging should make them
//! cost the same), `summary/1m` (`Coordinate::summarize` from this
//! process). Pages are fetched over loopback HTTP as a browser asks for
//! them, one at a time, with the sampler running as it does while someone
//! watches.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use coordinate_api::{Coordinate, Data, Value};
use coordinate_rest::wire::encode_name;
use diesel::pg::PgConnection;

use crate::api::preload;
use crate::coordinated::Launcher;
use crate::pg;
use crate::report::{Row, Verdict};
use crate::Measured;

/// Small specs beside the big one, and their units each.
const SMALL_SPECS: usize = 99;
const SMALL_UNITS: u64 = 1_000;
/// Units of the big spec: with the small ones, 1,000,000.
const BIG_UNITS: u64 = 901_000;
/// Requests measured per page (after a few unmeasured ones).
const SAMPLES: usize = 40;
const WARM_UP: usize = 3;
/// The limit on a page's p95.
const PAGE_P95_MS: f64 = 300.0;

/// Loads the store, starts a server on it, measures.
pub fn run(
    coordinate: &Arc<dyn Coordinate>,
    launcher: &Launcher,
    conn: &mut PgConnection,
    rows: &mut Vec<Row>,
) -> Result<()> {
    let namespace = coordinate.namespace(&format!("bench-dashboard-{}", std::process::id()))?;
    let spec = |name: &str| -> Result<_> {
        let mut definition = Data::new();
        definition.insert("name".into(), Value::Text(name.into()));
        Ok(namespace.set_work_spec(definition)?)
    };
    for i in 0..SMALL_SPECS {
        preload(&spec(&format!("small-{i:02}"))?, "u", SMALL_UNITS)?;
    }
    spec("big")?;
    let spec_id = pg::spec_id(conn, namespace.name(), "big")?;
    pg::load_available(conn, spec_id, BIG_UNITS as i64)?;
    pg::vacuum(conn)?;

    let summary = timed(SAMPLES / 4, || {
        let summary = coordinate.summarize()?;
        let units: usize = summary
            .iter()
            .filter(|r| r.namespace == namespace.name())
            .map(|r| r.count)
            .sum();
        if units as u64 != SMALL_SPECS as u64 * SMALL_UNITS + BIG_UNITS {
            bail!("the summary counts {units} units");
        }
        Ok(())
    })?;
    rows.push(page_row(
        "summary/1m",
        "Coordinate::summarize with 1,000,000 units in 100 specs (the dashboard's sampler)",
        summary,
        None,
    ));
    crate::progress(rows);

    let server = launcher.start(&[])?;
    let base = server.url.trim_end_matches('/').to_owned();
    let ns = encode_name(namespace.name());
    let mut browser = Browser::new();
    let big = format!("{base}/namespace/{ns}/work_spec/big");
    for (key, what, url, limit) in [
        (
            "dashboard/overview",
            "the overview page",
            format!("{base}/"),
            Some(PAGE_P95_MS),
        ),
        (
            "dashboard/spec",
            "the big spec's page (settings, counts, first 50 units)",
            big.clone(),
            Some(PAGE_P95_MS),
        ),
        (
            "dashboard/units-first",
            "the big spec's units from the first name",
            format!("{big}?status=available"),
            None,
        ),
        (
            "dashboard/units-900k",
            "the big spec's units after unit 900,000",
            format!("{big}?status=available&after=u0899999"),
            None,
        ),
    ] {
        let measured = browser
            .measure(&url)
            .with_context(|| format!("{key}: {url}; the server's log:\n{}", server.log_tail()))?;
        rows.push(page_row(key, what, measured, limit));
        crate::progress(rows);
    }
    // Keyset paging: the page deep in the table costs what the first does.
    let p50 = |key: &str| rows.iter().find(|r| r.key == key).and_then(|r| r.p50_ms);
    if let (Some(first), Some(deep)) = (p50("dashboard/units-first"), p50("dashboard/units-900k")) {
        let ratio = deep / first;
        if let Some(row) = rows.iter_mut().find(|r| r.key == "dashboard/units-900k") {
            row.targets.push(Verdict {
                wanted: "p50 <= 2x units-first".into(),
                got: format!("{ratio:.2}x"),
                measured: ratio,
                pass: ratio <= 2.0,
            });
        }
    }
    drop(server);
    namespace.destroy()?;
    Ok(())
}

/// `samples` calls of `call`, timed one by one.
fn timed(samples: usize, mut call: impl FnMut() -> Result<()>) -> Result<Measured> {
    let mut latencies = Vec::with_capacity(samples);
    let start = Instant::now();
    for _ in 0..samples {
        let began = Instant::now();
        call()?;
        latencies.push(began.elapsed());
    }
    Ok(Measured {
        units: samples as u64,
        elapsed: start.elapsed(),
        latencies,
    })
}

/// A row of latencies, with its p95 said and checked against `limit`.
fn page_row(key: &str, what: &str, measured: Measured, limit: Option<f64>) -> Row {
    let mut sorted = measured.latencies.clone();
    sorted.sort_unstable();
    let p95 = sorted
        .get(((sorted.len() as f64 - 1.0) * 0.95).round() as usize)
        .map_or(0.0, |d| d.as_secs_f64() * 1e3);
    let mut row = crate::row(
        key.to_owned(),
        format!("{what}; p95 {p95:.1} ms"),
        1,
        1,
        &measured,
        crate::Footprint::unrecorded(),
    );
    if let Some(limit) = limit {
        row.targets.push(Verdict {
            wanted: format!("p95<={limit}ms"),
            got: format!("{p95:.1}ms"),
            measured: p95,
            pass: p95 <= limit,
        });
    }
    row
}

/// A browser's requests: `Accept: text/html`, its session cookie kept.
struct Browser {
    agent: ureq::Agent,
    cookie: Option<String>,
}

impl Browser {
    fn new() -> Browser {
        Browser {
            agent: ureq::Agent::config_builder()
                .timeout_global(Some(Duration::from_secs(60)))
                .build()
                .into(),
            cookie: None,
        }
    }

    /// A few unmeasured requests, then [`SAMPLES`] measured ones.
    fn measure(&mut self, url: &str) -> Result<Measured> {
        for _ in 0..WARM_UP {
            self.page(url)?;
        }
        timed(SAMPLES, || self.page(url))
    }

    fn page(&mut self, url: &str) -> Result<()> {
        let mut request = self.agent.get(url).header("Accept", "text/html");
        if let Some(cookie) = &self.cookie {
            request = request.header("Cookie", cookie);
        }
        let mut response = request.call()?;
        if let Some(set) = response.headers().get("set-cookie") {
            let pair = set.to_str()?.split(';').next().unwrap_or("").to_owned();
            self.cookie = Some(pair);
        }
        let body = response.body_mut().read_to_string()?;
        if !body.contains("</html>") {
            bail!("not a page: {}", body.chars().take(200).collect::<String>());
        }
        Ok(())
    }
}
