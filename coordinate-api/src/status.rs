//! The states of work units and attempts, and how one derives from the other.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a work unit stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkUnitStatus {
    /// Ready to be handed to a worker.
    Available,
    /// A worker holds a live attempt on it.
    Pending,
    /// Its active attempt finished.
    Finished,
    /// Its active attempt failed.
    Failed,
    /// Not available until its not-before time.
    Delayed,
}

impl WorkUnitStatus {
    /// Every status, in display order.
    pub const ALL: [WorkUnitStatus; 5] = [
        WorkUnitStatus::Available,
        WorkUnitStatus::Pending,
        WorkUnitStatus::Finished,
        WorkUnitStatus::Failed,
        WorkUnitStatus::Delayed,
    ];

    /// Lower-case name, as used in summaries and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkUnitStatus::Available => "available",
            WorkUnitStatus::Pending => "pending",
            WorkUnitStatus::Finished => "finished",
            WorkUnitStatus::Failed => "failed",
            WorkUnitStatus::Delayed => "delayed",
        }
    }
}

impl std::fmt::Display for WorkUnitStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an attempt stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptStatus {
    /// The worker is (believed to be) working on it.
    Pending,
    /// Its lease ran out, or it was expired by hand.
    Expired,
    /// The worker finished the work.
    Finished,
    /// The worker gave up on the work.
    Failed,
    /// The worker asked for the work to be tried again later.
    Retryable,
}

impl AttemptStatus {
    /// Every status, in declaration order.
    pub const ALL: [AttemptStatus; 5] = [
        AttemptStatus::Pending,
        AttemptStatus::Expired,
        AttemptStatus::Finished,
        AttemptStatus::Failed,
        AttemptStatus::Retryable,
    ];

    /// Lower-case name, matching PostgreSQL's `attempt_status` enum.
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptStatus::Pending => "pending",
            AttemptStatus::Expired => "expired",
            AttemptStatus::Finished => "finished",
            AttemptStatus::Failed => "failed",
            AttemptStatus::Retryable => "retryable",
        }
    }

    /// Parses the lower-case name produced by [`AttemptStatus::as_str`].
    pub fn parse(name: &str) -> Option<AttemptStatus> {
        Some(match name {
            "pending" => AttemptStatus::Pending,
            "expired" => AttemptStatus::Expired,
            "finished" => AttemptStatus::Finished,
            "failed" => AttemptStatus::Failed,
            "retryable" => AttemptStatus::Retryable,
            _ => return None,
        })
    }
}

impl std::fmt::Display for AttemptStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A work unit's status, from the status of its active attempt (if any)
/// and its not-before time.
pub fn derive_work_unit_status(
    active_attempt: Option<AttemptStatus>,
    not_before: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> WorkUnitStatus {
    match active_attempt {
        Some(AttemptStatus::Pending) => WorkUnitStatus::Pending,
        Some(AttemptStatus::Finished) => WorkUnitStatus::Finished,
        Some(AttemptStatus::Failed) => WorkUnitStatus::Failed,
        None | Some(AttemptStatus::Expired) | Some(AttemptStatus::Retryable) => match not_before {
            Some(not_before) if now < not_before => WorkUnitStatus::Delayed,
            _ => WorkUnitStatus::Available,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn status_follows_the_active_attempt() {
        let now = Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap();
        let later = now + chrono::Duration::seconds(1);
        let cases = [
            (None, None, WorkUnitStatus::Available),
            (None, Some(later), WorkUnitStatus::Delayed),
            (None, Some(now), WorkUnitStatus::Available),
            (
                Some(AttemptStatus::Pending),
                Some(later),
                WorkUnitStatus::Pending,
            ),
            (
                Some(AttemptStatus::Expired),
                None,
                WorkUnitStatus::Available,
            ),
            (
                Some(AttemptStatus::Retryable),
                Some(later),
                WorkUnitStatus::Delayed,
            ),
            (
                Some(AttemptStatus::Finished),
                None,
                WorkUnitStatus::Finished,
            ),
            (Some(AttemptStatus::Failed), None, WorkUnitStatus::Failed),
        ];
        for (active, not_before, expected) in cases {
            assert_eq!(
                derive_work_unit_status(active, not_before, now),
                expected,
                "{active:?} {not_before:?}"
            );
        }
    }

    #[test]
    fn attempt_status_names_round_trip() {
        for status in [
            AttemptStatus::Pending,
            AttemptStatus::Expired,
            AttemptStatus::Finished,
            AttemptStatus::Failed,
            AttemptStatus::Retryable,
        ] {
            assert_eq!(AttemptStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(AttemptStatus::parse("bogus"), None);
    }
}
