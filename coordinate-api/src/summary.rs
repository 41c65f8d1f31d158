//! Counts of work units per namespace, work spec and status.

use serde::{Deserialize, Serialize};

use crate::status::WorkUnitStatus;

/// How many units of one work spec are in one status.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SummaryRecord {
    /// Namespace of the work spec.
    pub namespace: String,
    /// Name of the work spec.
    pub work_spec: String,
    /// The status counted.
    pub status: WorkUnitStatus,
    /// Number of units in that status (never 0 in a summary).
    pub count: usize,
}

/// A list of [`SummaryRecord`]s sorted by namespace, work spec and status,
/// leaving out zero counts.
pub type Summary = Vec<SummaryRecord>;

/// Sorts records into summary order and drops zero counts.
pub fn normalize_summary(mut summary: Summary) -> Summary {
    summary.retain(|record| record.count > 0);
    summary.sort();
    summary
}
