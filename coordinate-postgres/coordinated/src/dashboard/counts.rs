//! Work unit counts for pages, from the summary sampler's latest sample
//! (never a count per page view), and the per-minute chart of finished
//! units drawn from its history.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use coordinate_api::WorkUnitStatus;

use super::view;
use crate::sampler::SummarySampler;
use crate::throughput::MINUTES;

/// The statuses as the pages list them.
pub const SHOWN: [WorkUnitStatus; 5] = [
    WorkUnitStatus::Available,
    WorkUnitStatus::Pending,
    WorkUnitStatus::Delayed,
    WorkUnitStatus::Finished,
    WorkUnitStatus::Failed,
];

/// One spec's count per status, in [`SHOWN`]'s order.
#[derive(Debug, Clone, Default)]
pub struct SpecCounts(pub [usize; 5]);

impl SpecCounts {
    /// The counts formatted, with their status names.
    pub fn cells(&self) -> Vec<(&'static str, String)> {
        SHOWN
            .iter()
            .zip(self.0)
            .map(|(status, n)| (status.as_str(), view::count(n)))
            .collect()
    }

    /// The count of one status.
    pub fn of(&self, status: WorkUnitStatus) -> usize {
        SHOWN
            .iter()
            .position(|s| *s == status)
            .map_or(0, |i| self.0[i])
    }
}

/// The latest sample's counts per (namespace, spec), and when it was
/// taken (`None` before the first sample).
pub struct Counts {
    by_spec: HashMap<(String, String), SpecCounts>,
    /// When the sample was taken.
    pub taken_at: Option<DateTime<Utc>>,
}

impl Counts {
    /// The sampler's latest counts.
    pub fn latest(sampler: &SummarySampler) -> Counts {
        let mut by_spec: HashMap<(String, String), SpecCounts> = HashMap::new();
        let sample = sampler.latest();
        if let Some(sample) = &sample {
            for record in &sample.summary {
                if let Some(index) = SHOWN.iter().position(|s| *s == record.status) {
                    by_spec
                        .entry((record.namespace.clone(), record.work_spec.clone()))
                        .or_default()
                        .0[index] += record.count;
                }
            }
        }
        Counts {
            by_spec,
            taken_at: sample.map(|s| s.taken_at),
        }
    }

    /// One spec's counts (zeros if it has no units).
    pub fn of(&self, namespace: &str, spec: &str) -> SpecCounts {
        self.by_spec
            .get(&(namespace.to_owned(), spec.to_owned()))
            .cloned()
            .unwrap_or_default()
    }

    /// "as of 12:00:01Z (1s ago)".
    pub fn as_of(&self, now: DateTime<Utc>) -> String {
        match self.taken_at {
            Some(t) => format!("as of {} ({})", view::time(t), view::relative(t, now)),
            None => "not sampled yet".to_owned(),
        }
    }
}

/// One bar of the finished-per-minute chart, in SVG units.
pub struct Bar {
    /// Left edge.
    pub x: usize,
    /// Top edge.
    pub y: usize,
    /// Height (0 for a minute without units, none for a gap).
    pub height: usize,
    /// The minute's count, for the tooltip.
    pub label: String,
}

/// The chart of one spec's last hour.
pub struct Chart {
    /// The bars, oldest first.
    pub bars: Vec<Bar>,
    /// The busiest minute.
    pub peak: usize,
    /// Units finished in the hour (minutes sampled).
    pub total: usize,
}

/// Chart width and height in SVG units.
pub const CHART_WIDTH: usize = MINUTES * 4;
/// See [`CHART_WIDTH`].
pub const CHART_HEIGHT: usize = 32;

impl Chart {
    /// The chart of `namespace`/`spec` up to `now`.
    pub fn of(sampler: &SummarySampler, namespace: &str, spec: &str, now: DateTime<Utc>) -> Chart {
        let minutes = sampler.throughput().per_minute(namespace, spec, now);
        let peak = minutes.iter().flatten().copied().max().unwrap_or(0);
        let total = minutes.iter().flatten().sum();
        let bars = minutes
            .iter()
            .enumerate()
            .filter_map(|(index, minute)| {
                let n = (*minute)?;
                let height = if peak == 0 {
                    0
                } else {
                    (n * CHART_HEIGHT).div_ceil(peak)
                };
                Some(Bar {
                    x: index * 4,
                    y: CHART_HEIGHT - height,
                    height,
                    label: format!("{} min ago: {n}", MINUTES - 1 - index),
                })
            })
            .collect();
        Chart { bars, peak, total }
    }
}
