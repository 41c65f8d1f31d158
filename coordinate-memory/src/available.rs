//! The per-work-spec index of units by status, which makes claiming cheap.
//!
//! Every unit is *filed* under exactly one [`Slot`]. Available units sit in
//! a B-tree ordered by (priority descending, name), so the next unit to hand
//! out is the first entry: O(log n) to take, whatever the number of units.
//! Delayed units sit in a second tree ordered by not-before time; when the
//! clock passes that time, [`UnitIndex::refresh`] moves them over (cheap:
//! it only looks at the units that actually move). Counts per status are
//! kept up to date, so scheduling and summaries never walk the units.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use coordinate_api::WorkUnitStatus;

use crate::coordinate::Id;

/// Where a unit is filed, with the keys it was filed under (so it can be
/// found again after its meta changed).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Slot {
    /// Not filed: a unit being created or deleted.
    Unfiled,
    /// Ready to hand out.
    Available {
        priority: f64,
        not_before: Option<DateTime<Utc>>,
    },
    /// Waiting for its not-before time.
    Delayed {
        priority: f64,
        not_before: DateTime<Utc>,
    },
    /// Its active attempt is pending.
    Pending,
    /// Its active attempt finished.
    Finished,
    /// Its active attempt failed.
    Failed,
}

impl Slot {
    /// The slot for a unit of this status, priority and not-before time.
    pub(crate) fn new(
        status: WorkUnitStatus,
        priority: f64,
        not_before: Option<DateTime<Utc>>,
    ) -> Slot {
        match (status, not_before) {
            (WorkUnitStatus::Pending, _) => Slot::Pending,
            (WorkUnitStatus::Finished, _) => Slot::Finished,
            (WorkUnitStatus::Failed, _) => Slot::Failed,
            (WorkUnitStatus::Delayed, Some(not_before)) => Slot::Delayed {
                priority,
                not_before,
            },
            // Delayed always comes with a not-before time; anything else
            // is available.
            (WorkUnitStatus::Available | WorkUnitStatus::Delayed, _) => Slot::Available {
                priority,
                not_before,
            },
        }
    }

    /// The status this slot stands for.
    pub(crate) fn status(self) -> WorkUnitStatus {
        match self {
            Slot::Unfiled | Slot::Available { .. } => WorkUnitStatus::Available,
            Slot::Delayed { .. } => WorkUnitStatus::Delayed,
            Slot::Pending => WorkUnitStatus::Pending,
            Slot::Finished => WorkUnitStatus::Finished,
            Slot::Failed => WorkUnitStatus::Failed,
        }
    }
}

/// Claim order: higher priority first, then name.
#[derive(Debug, Clone)]
struct Rank {
    priority: f64,
    name: Arc<str>,
}

impl Rank {
    fn new(priority: f64, name: &Arc<str>) -> Rank {
        // -0.0 and 0.0 are the same priority; `total_cmp` would split them.
        let priority = if priority == 0.0 { 0.0 } else { priority };
        Rank {
            priority,
            name: name.clone(),
        }
    }
}

impl Ord for Rank {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .priority
            .total_cmp(&self.priority)
            .then_with(|| self.name.cmp(&other.name))
    }
}

impl PartialOrd for Rank {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Rank {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Rank {}

/// A not-before time and a unit name: the key of the time-ordered trees.
type TimeKey = (DateTime<Utc>, Arc<str>);

/// One work spec's units, filed by status.
#[derive(Debug, Default)]
pub(crate) struct UnitIndex {
    /// Available units in claim order.
    ready: BTreeMap<Rank, Id>,
    /// The available units that have a not-before time, so that a clock
    /// set back in time can return them to `delayed`.
    ready_timed: BTreeMap<TimeKey, (Id, f64)>,
    /// Delayed units by not-before time, with their priority.
    delayed: BTreeMap<TimeKey, (Id, f64)>,
    /// Units per status, indexed by [`status_index`].
    counts: [usize; 5],
}

fn status_index(status: WorkUnitStatus) -> usize {
    match status {
        WorkUnitStatus::Available => 0,
        WorkUnitStatus::Pending => 1,
        WorkUnitStatus::Finished => 2,
        WorkUnitStatus::Failed => 3,
        WorkUnitStatus::Delayed => 4,
    }
}

impl UnitIndex {
    /// Number of units filed with this status.
    pub(crate) fn count(&self, status: WorkUnitStatus) -> usize {
        self.counts[status_index(status)]
    }

    /// The available unit to hand out next: highest priority, then first
    /// by name.
    pub(crate) fn best(&self) -> Option<Id> {
        self.ready.first_key_value().map(|(_, id)| *id)
    }

    /// Moves a unit from slot `old` to slot `new`.
    pub(crate) fn file(&mut self, name: &Arc<str>, id: Id, old: Slot, new: Slot) {
        if old == new {
            return;
        }
        self.remove(name, old);
        self.insert(name, id, new);
    }

    fn insert(&mut self, name: &Arc<str>, id: Id, slot: Slot) {
        match slot {
            Slot::Unfiled => return,
            Slot::Available {
                priority,
                not_before,
            } => {
                self.ready.insert(Rank::new(priority, name), id);
                if let Some(not_before) = not_before {
                    self.ready_timed
                        .insert((not_before, name.clone()), (id, priority));
                }
            }
            Slot::Delayed {
                priority,
                not_before,
            } => {
                self.delayed
                    .insert((not_before, name.clone()), (id, priority));
            }
            Slot::Pending | Slot::Finished | Slot::Failed => {}
        }
        self.counts[status_index(slot.status())] += 1;
    }

    fn remove(&mut self, name: &Arc<str>, slot: Slot) {
        match slot {
            Slot::Unfiled => return,
            Slot::Available {
                priority,
                not_before,
            } => {
                self.ready.remove(&Rank::new(priority, name));
                if let Some(not_before) = not_before {
                    self.ready_timed.remove(&(not_before, name.clone()));
                }
            }
            Slot::Delayed { not_before, .. } => {
                self.delayed.remove(&(not_before, name.clone()));
            }
            Slot::Pending | Slot::Finished | Slot::Failed => {}
        }
        let count = &mut self.counts[status_index(slot.status())];
        *count = count.saturating_sub(1);
    }

    /// Brings the available/delayed split up to `now`: delayed units whose
    /// time came become available, and (only if the clock went backwards)
    /// available units whose not-before time is again in the future become
    /// delayed. Returns each moved unit with its new slot, for the caller
    /// to record. Costs O(log n) per moved unit and nothing else.
    pub(crate) fn refresh(&mut self, now: DateTime<Utc>) -> Vec<(Id, Slot)> {
        let mut moved = Vec::new();
        while let Some(entry) = self.delayed.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let ((not_before, name), (id, priority)) = entry.remove_entry();
            self.counts[status_index(WorkUnitStatus::Delayed)] -= 1;
            let slot = Slot::Available {
                priority,
                not_before: Some(not_before),
            };
            self.insert(&name, id, slot);
            moved.push((id, slot));
        }
        while let Some(entry) = self.ready_timed.last_entry() {
            if entry.key().0 <= now {
                break;
            }
            let ((not_before, name), (id, priority)) = entry.remove_entry();
            self.ready.remove(&Rank::new(priority, &name));
            self.counts[status_index(WorkUnitStatus::Available)] -= 1;
            let slot = Slot::Delayed {
                priority,
                not_before,
            };
            self.insert(&name, id, slot);
            moved.push((id, slot));
        }
        moved
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(seconds: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_600_000_000 + seconds, 0).unwrap()
    }

    fn available(priority: f64) -> Slot {
        Slot::Available {
            priority,
            not_before: None,
        }
    }

    #[test]
    fn best_is_highest_priority_then_name() {
        let mut index = UnitIndex::default();
        let names: Vec<Arc<str>> = ["b", "a", "c"].iter().map(|n| Arc::from(*n)).collect();
        index.file(&names[0], 1, Slot::Unfiled, available(1.0));
        index.file(&names[1], 2, Slot::Unfiled, available(1.0));
        index.file(&names[2], 3, Slot::Unfiled, available(-0.0));
        assert_eq!(index.best(), Some(2));
        index.file(&names[1], 2, available(1.0), Slot::Pending);
        assert_eq!(index.best(), Some(1));
        index.file(&names[0], 1, available(1.0), available(0.0));
        // Same priority (0 == -0): name decides.
        assert_eq!(index.best(), Some(1));
        assert_eq!(index.count(WorkUnitStatus::Available), 2);
        assert_eq!(index.count(WorkUnitStatus::Pending), 1);
    }

    #[test]
    fn delayed_units_move_both_ways_with_the_clock() {
        let mut index = UnitIndex::default();
        let name: Arc<str> = Arc::from("u");
        let delayed = Slot::Delayed {
            priority: 0.0,
            not_before: t(10),
        };
        index.file(&name, 7, Slot::Unfiled, delayed);
        assert!(index.refresh(t(9)).is_empty());
        assert_eq!(index.best(), None);
        let moved = index.refresh(t(10));
        assert_eq!(moved.len(), 1);
        assert_eq!(moved[0].1.status(), WorkUnitStatus::Available);
        assert_eq!(index.best(), Some(7));
        let back = index.refresh(t(5));
        assert_eq!(back, vec![(7, delayed)]);
        assert_eq!(index.best(), None);
        assert_eq!(index.count(WorkUnitStatus::Delayed), 1);
        assert_eq!(index.count(WorkUnitStatus::Available), 0);
    }
}
