//! `/metrics` in Prometheus's text format, written by hand (a few gauges,
//! counters and histograms do not need a metrics library):
//!
//! - go's `coordinate_work_units{namespace,work_spec,status}` gauge and
//!   `coordinate_summary_seconds` histogram (go's buckets: 2⁻⁵ s doubling
//!   twelve times), from the [`SummarySampler`](crate::sampler::SummarySampler);
//! - `coordinated_http_requests_total{method,route,status}` and
//!   `coordinated_http_request_duration_seconds{method,route}`, labelled by
//!   route *template* (`/namespace/{namespace}`), never by the raw path;
//! - `coordinated_store_calls_waiting` and
//!   `coordinated_store_calls_refused_total` (the 503s of `--max-waiting`).
//!
//! - `coordinated_pool_connections`, `coordinated_pool_idle_connections`
//!   and `coordinated_pool_max_connections`: the PostgreSQL store's pool.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

use crate::backend::PoolProbe;
use crate::state::AppState;

/// Request latency buckets, in seconds.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0,
];

/// go's `prometheus.ExponentialBuckets(2^-5, 2, 12)`.
pub fn summary_buckets() -> Vec<f64> {
    (0..12).map(|i| 2f64.powi(i - 5)).collect()
}

/// A Prometheus histogram's state.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    bounds: Vec<f64>,
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    /// An empty histogram with these upper bounds (ascending).
    pub fn new(bounds: Vec<f64>) -> Self {
        let counts = vec![0; bounds.len()];
        Histogram {
            bounds,
            counts,
            sum: 0.0,
            count: 0,
        }
    }

    /// Counts one observation.
    pub fn observe(&mut self, seconds: f64) {
        for (bound, count) in self.bounds.iter().zip(&mut self.counts) {
            if seconds <= *bound {
                *count += 1;
            }
        }
        self.sum += seconds;
        self.count += 1;
    }

    /// Writes the `_bucket`, `_sum` and `_count` lines; `labels` is empty
    /// or `key="value",…` without braces.
    pub fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (bound, count) in self.bounds.iter().zip(&self.counts) {
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {count}");
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        );
        let braces = |labels: &str| {
            if labels.is_empty() {
                String::new()
            } else {
                format!("{{{labels}}}")
            }
        };
        let _ = writeln!(out, "{name}_sum{} {}", braces(labels), self.sum);
        let _ = writeln!(out, "{name}_count{} {}", braces(labels), self.count);
    }
}

/// Request counts and latencies by route template.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<(String, String), Histogram>>,
    pool: Mutex<Option<PoolProbe>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// Publishes the store's pool from now on.
    pub fn watch_pool(&self, probe: PoolProbe) {
        *lock(&self.pool) = Some(probe);
    }

    /// Counts one answered request.
    pub fn record(&self, method: &str, route: &str, status: u16, took: Duration) {
        let key = (method.to_owned(), route.to_owned());
        *lock(&self.requests)
            .entry((key.0.clone(), key.1.clone(), status))
            .or_default() += 1;
        lock(&self.latency)
            .entry(key)
            .or_insert_with(|| Histogram::new(LATENCY_BUCKETS.to_vec()))
            .observe(took.as_secs_f64());
    }

    fn render(&self, out: &mut String) {
        if let Some(probe) = lock(&self.pool).as_ref() {
            let pool = probe();
            for (name, help, value) in [
                (
                    "coordinated_pool_connections",
                    "PostgreSQL connections open.",
                    pool.connections,
                ),
                (
                    "coordinated_pool_idle_connections",
                    "Of those, the idle ones.",
                    pool.idle_connections,
                ),
                (
                    "coordinated_pool_max_connections",
                    "Most connections the pool opens.",
                    pool.max_size,
                ),
            ] {
                let _ = writeln!(
                    out,
                    "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
                );
            }
        }
        out.push_str(
            "# HELP coordinated_http_requests_total Requests answered, by route template.\n",
        );
        out.push_str("# TYPE coordinated_http_requests_total counter\n");
        for ((method, route, status), count) in lock(&self.requests).iter() {
            let _ = writeln!(
                out,
                "coordinated_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {count}",
                escape(method),
                escape(route)
            );
        }
        out.push_str(
            "# HELP coordinated_http_request_duration_seconds Time to answer, by route template.\n",
        );
        out.push_str("# TYPE coordinated_http_request_duration_seconds histogram\n");
        for ((method, route), histogram) in lock(&self.latency).iter() {
            let labels = format!("method=\"{}\",route=\"{}\"", escape(method), escape(route));
            histogram.render(out, "coordinated_http_request_duration_seconds", &labels);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}

/// A label value with Prometheus's escapes.
pub fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The whole exposition.
pub fn render(state: &AppState) -> String {
    let mut out = String::new();
    let sampler = state.sampler();
    out.push_str("# HELP coordinate_work_units Number of coordinate work units\n");
    out.push_str("# TYPE coordinate_work_units gauge\n");
    if let Some(sample) = sampler.latest() {
        for record in &sample.summary {
            let _ = writeln!(
                out,
                "coordinate_work_units{{namespace=\"{}\",work_spec=\"{}\",status=\"{}\"}} {}",
                escape(&record.namespace),
                escape(&record.work_spec),
                record.status.as_str(),
                record.count
            );
        }
    }
    out.push_str(
        "# HELP coordinate_summary_seconds Seconds required to gather coordinate summary\n",
    );
    out.push_str("# TYPE coordinate_summary_seconds histogram\n");
    sampler
        .durations()
        .render(&mut out, "coordinate_summary_seconds", "");
    state.metrics().render(&mut out);
    let store = state.store();
    out.push_str("# HELP coordinated_store_calls_waiting Requests waiting for a store call.\n");
    out.push_str("# TYPE coordinated_store_calls_waiting gauge\n");
    let _ = writeln!(out, "coordinated_store_calls_waiting {}", store.waiting());
    out.push_str(
        "# HELP coordinated_store_calls_refused_total Requests refused with 503: too many waiting.\n",
    );
    out.push_str("# TYPE coordinated_store_calls_refused_total counter\n");
    let _ = writeln!(
        out,
        "coordinated_store_calls_refused_total {}",
        store.refused()
    );
    out
}

/// `GET /metrics`.
pub async fn metrics_handler(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        render(&state),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_summary_buckets() {
        let buckets = summary_buckets();
        assert_eq!(buckets.len(), 12);
        assert_eq!(buckets[0], 0.03125);
        assert_eq!(buckets[11], 64.0);
    }

    #[test]
    fn histograms_are_cumulative() {
        let mut h = Histogram::new(vec![1.0, 2.0]);
        h.observe(0.5);
        h.observe(1.5);
        h.observe(3.0);
        let mut out = String::new();
        h.render(&mut out, "x", "a=\"b\"");
        assert!(out.contains("x_bucket{a=\"b\",le=\"1\"} 1\n"), "{out}");
        assert!(out.contains("x_bucket{a=\"b\",le=\"2\"} 2\n"), "{out}");
        assert!(out.contains("x_bucket{a=\"b\",le=\"+Inf\"} 3\n"), "{out}");
        assert!(out.contains("x_count{a=\"b\"} 3\n"), "{out}");
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
