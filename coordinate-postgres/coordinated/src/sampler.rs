//! One task summarises the store every `-metric-period` (go's `Observe`),
//! and everything that shows work unit counts reads its latest sample:
//! `/metrics` and the dashboard, which may ask for a shorter
//! interval while someone is looking ([`SummarySampler::request_interval`]).
//!
//! A summary reads every unit, so its cost grows with the store (0.6 s
//! at a million units, `summary/1m` in `cargo xtask bench`). A watched
//! sampler therefore never samples more often than [`BUSY_SHARE`] allows:
//! at least `1 / BUSY_SHARE` times the last summary's duration between
//! two, so that watching costs the server a bounded share of one
//! connection's time.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use coordinate_api::{Coordinate, Summary};
use tokio::sync::Notify;

use crate::metrics::{summary_buckets, Histogram};
use crate::shutdown::Stop;
use crate::throughput::Throughput;

/// The most of its time a watched sampler keeps one connection busy.
pub const BUSY_SHARE: f64 = 0.05;

/// One summary of the whole store.
#[derive(Debug, Clone)]
pub struct Sample {
    /// The records, as `Coordinate::summarize` gave them.
    pub summary: Summary,
    /// When it was taken.
    pub taken_at: DateTime<Utc>,
    /// How long the summary took.
    pub took: Duration,
}

/// The shared sampler (see the module docs).
pub struct SummarySampler {
    period: Duration,
    latest: Mutex<Option<Arc<Sample>>>,
    durations: Mutex<Histogram>,
    /// A shorter interval someone asked for, and until when.
    wanted: Mutex<Option<(Duration, Instant)>>,
    wake: Notify,
    log: bool,
    throughput: Throughput,
}

impl SummarySampler {
    /// A sampler that summarises every `period`; `log` writes each sample
    /// and failure to the log (go's `-log-metrics`).
    pub fn new(period: Duration, log: bool) -> Arc<Self> {
        Arc::new(SummarySampler {
            period,
            latest: Mutex::new(None),
            durations: Mutex::new(Histogram::new(summary_buckets())),
            wanted: Mutex::new(None),
            wake: Notify::new(),
            log,
            throughput: Throughput::default(),
        })
    }

    /// The latest sample, if one was taken.
    pub fn latest(&self) -> Option<Arc<Sample>> {
        lock(&self.latest).clone()
    }

    /// Units finished per minute, from the samples so far.
    pub fn throughput(&self) -> &Throughput {
        &self.throughput
    }

    /// How long the summaries took so far (go's
    /// `coordinate_summary_seconds`).
    pub fn durations(&self) -> Histogram {
        lock(&self.durations).clone()
    }

    /// Asks for samples at least every `interval` for the next `for_how_long`
    /// (a dashboard being watched); the regular period resumes after.
    pub fn request_interval(&self, interval: Duration, for_how_long: Duration) {
        let interval = interval.max(Duration::from_millis(100));
        *lock(&self.wanted) = Some((interval, Instant::now() + for_how_long));
        self.wake.notify_one();
    }

    /// The time to the next sample.
    fn next_wait(&self) -> Duration {
        match *lock(&self.wanted) {
            Some((interval, until)) if Instant::now() < until => {
                let took = self.latest().map_or(Duration::ZERO, |s| s.took);
                interval.max(took.div_f64(BUSY_SHARE)).min(self.period)
            }
            _ => self.period,
        }
    }

    /// Summarises `store` now (a blocking call).
    pub fn sample_now(&self, store: &dyn Coordinate) {
        let started = Instant::now();
        match store.summarize() {
            Ok(summary) => {
                let took = started.elapsed();
                lock(&self.durations).observe(took.as_secs_f64());
                if self.log {
                    tracing::info!(records = summary.len(), took = ?took, "metrics sampled");
                }
                let taken_at = Utc::now();
                self.throughput.record(&summary, taken_at);
                *lock(&self.latest) = Some(Arc::new(Sample {
                    summary,
                    taken_at,
                    took,
                }));
            }
            Err(e) => {
                if self.log {
                    tracing::error!(error = %e, "summarising the store for metrics failed");
                } else {
                    tracing::debug!(error = %e, "summarising the store for metrics failed");
                }
            }
        }
    }

    /// The sampling loop: a sample now, then one per interval, until
    /// `stop`.
    pub async fn run(self: Arc<Self>, store: Arc<dyn Coordinate>, stop: Stop) {
        loop {
            let sampler = self.clone();
            let target = store.clone();
            let sampled = tokio::task::spawn_blocking(move || sampler.sample_now(&*target));
            tokio::select! {
                _ = sampled => {}
                () = stop.wait() => return,
            }
            tokio::select! {
                () = tokio::time::sleep(self.next_wait()) => {}
                () = self.wake.notified() => {}
                () = stop.wait() => return,
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use coordinate_api::{Data, Value, WorkUnitMeta};
    use coordinate_memory::MemoryCoordinate;

    #[test]
    fn a_sample_holds_the_summary_and_its_duration() {
        let store = MemoryCoordinate::new();
        let namespace = store.namespace("n").unwrap();
        let mut definition = Data::new();
        definition.insert("name".into(), Value::Text("s".into()));
        let spec = namespace.set_work_spec(definition).unwrap();
        spec.add_work_unit("u", Data::new(), WorkUnitMeta::default())
            .unwrap();
        let sampler = SummarySampler::new(Duration::from_secs(60), false);
        assert!(sampler.latest().is_none());
        sampler.sample_now(&store);
        let sample = sampler.latest().unwrap();
        assert_eq!(sample.summary.len(), 1);
        assert_eq!(sample.summary[0].count, 1);
        let mut rendered = String::new();
        sampler.durations().render(&mut rendered, "s", "");
        assert!(rendered.contains("s_count 1"), "{rendered}");
    }

    #[test]
    fn a_shorter_interval_holds_for_a_while() {
        let sampler = SummarySampler::new(Duration::from_secs(120), false);
        assert_eq!(sampler.next_wait(), Duration::from_secs(120));
        sampler.request_interval(Duration::from_secs(5), Duration::from_secs(60));
        assert_eq!(sampler.next_wait(), Duration::from_secs(5));
        sampler.request_interval(Duration::from_secs(5), Duration::ZERO);
        assert_eq!(sampler.next_wait(), Duration::from_secs(120));
    }

    #[test]
    fn a_costly_summary_is_taken_less_often() {
        let sampler = SummarySampler::new(Duration::from_secs(120), false);
        sampler.request_interval(Duration::from_secs(2), Duration::from_secs(60));
        *lock(&sampler.latest) = Some(Arc::new(Sample {
            summary: Vec::new(),
            taken_at: Utc::now(),
            took: Duration::from_millis(600),
        }));
        assert_eq!(
            sampler.next_wait(),
            Duration::from_secs(12),
            "600 ms at 5 %"
        );
        *lock(&sampler.latest) = Some(Arc::new(Sample {
            summary: Vec::new(),
            taken_at: Utc::now(),
            took: Duration::from_secs(30),
        }));
        assert_eq!(
            sampler.next_wait(),
            Duration::from_secs(120),
            "never past the period"
        );
    }
}
