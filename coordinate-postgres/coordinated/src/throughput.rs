//! Units finished per minute, per work spec, over the last hour, from the
//! summary sampler's samples (no query of its own): the finished count at
//! the end of each minute minus the one at the end of the minute before.
//! A minute without a sample is a gap, not a zero; a count that went down
//! (units deleted or pruned) counts as zero.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use coordinate_api::{Summary, WorkUnitStatus};

/// Minutes shown.
pub const MINUTES: usize = 60;

/// A work spec, by namespace and name.
type SpecKey = (String, String);

/// The finished counts of the last sample taken in one minute.
struct MinuteMark {
    minute: i64,
    finished: HashMap<SpecKey, usize>,
}

/// The last hour of finished counts (see the module docs).
#[derive(Default)]
pub struct Throughput {
    marks: Mutex<VecDeque<MinuteMark>>,
}

impl Throughput {
    /// Notes a sample taken at `at`: it becomes its minute's mark.
    pub fn record(&self, summary: &Summary, at: DateTime<Utc>) {
        let mut finished: HashMap<SpecKey, usize> = HashMap::new();
        for record in summary {
            if record.status == WorkUnitStatus::Finished {
                *finished
                    .entry((record.namespace.clone(), record.work_spec.clone()))
                    .or_insert(0) += record.count;
            }
        }
        let minute = at.timestamp().div_euclid(60);
        let mut marks = self.marks.lock().unwrap_or_else(|p| p.into_inner());
        if marks.back().is_some_and(|last| last.minute == minute) {
            marks.pop_back();
        }
        marks.push_back(MinuteMark { minute, finished });
        while marks
            .front()
            .is_some_and(|first| first.minute < minute - MINUTES as i64)
        {
            marks.pop_front();
        }
    }

    /// Units of one spec finished in each of the last [`MINUTES`] minutes
    /// up to `now`'s (oldest first; the last one is still running).
    pub fn per_minute(
        &self,
        namespace: &str,
        spec: &str,
        now: DateTime<Utc>,
    ) -> Vec<Option<usize>> {
        let marks = self.marks.lock().unwrap_or_else(|p| p.into_inner());
        let count_at = |minute: i64| {
            marks.iter().find(|m| m.minute == minute).map(|m| {
                m.finished
                    .get(&(namespace.to_owned(), spec.to_owned()))
                    .copied()
                    .unwrap_or(0)
            })
        };
        let this_minute = now.timestamp().div_euclid(60);
        (0..MINUTES as i64)
            .rev()
            .map(|ago| {
                let minute = this_minute - ago;
                match (count_at(minute - 1), count_at(minute)) {
                    (Some(before), Some(after)) => Some(after.saturating_sub(before)),
                    _ => None,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use coordinate_api::SummaryRecord;

    fn finished(count: usize) -> Summary {
        vec![SummaryRecord {
            namespace: "n".into(),
            work_spec: "s".into(),
            status: WorkUnitStatus::Finished,
            count,
        }]
    }

    #[test]
    fn each_minute_is_its_growth_and_gaps_stay_gaps() {
        let history = Throughput::default();
        let at = |minute: i64, second: u32| {
            Utc.timestamp_opt(minute * 60 + i64::from(second), 0)
                .unwrap()
        };
        history.record(&finished(10), at(1000, 5));
        history.record(&finished(12), at(1000, 50));
        history.record(&finished(30), at(1001, 30));
        history.record(&finished(25), at(1003, 0));
        history.record(&finished(40), at(1004, 10));
        let minutes = history.per_minute("n", "s", at(1004, 20));
        assert_eq!(minutes.len(), MINUTES);
        assert_eq!(
            &minutes[MINUTES - 4..],
            &[Some(18), None, None, Some(15)],
            "18 = 30 - 12, minute 1002 has no sample, a drop counts as none"
        );
        assert_eq!(
            history.per_minute("n", "other", at(1004, 20))[MINUTES - 1],
            Some(0)
        );
    }

    #[test]
    fn an_hour_is_kept() {
        let history = Throughput::default();
        for minute in 0..200 {
            history.record(
                &finished(minute),
                Utc.timestamp_opt(minute as i64 * 60, 0).unwrap(),
            );
        }
        assert!(history.marks.lock().unwrap().len() <= MINUTES + 1);
        let minutes = history.per_minute("n", "s", Utc.timestamp_opt(199 * 60, 0).unwrap());
        assert!(minutes.iter().all(|m| *m == Some(1)), "{minutes:?}");
    }
}
