//! Scheduling metadata of work specs and work units.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Scheduling settings of a work spec, mostly derived from its definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkSpecMeta {
    /// Only work specs of the highest priority with work get scheduled.
    pub priority: i32,
    /// Relative share of workers among work specs of equal priority.
    pub weight: i32,
    /// A paused work spec hands out no work.
    pub paused: bool,
    /// Whether the scheduler may create work units out of thin air.
    pub continuous: bool,
    /// Whether the definition allows `continuous` to be switched on.
    pub can_be_continuous: bool,
    /// Memory a worker needs for this work (informational).
    pub min_memory_gb: f64,
    /// Least time between two continuous work units.
    pub interval: Duration,
    /// Earliest time of the next continuous work unit.
    pub next_continuous: Option<DateTime<Utc>>,
    /// Most attempts pending at once; 0 means no limit.
    pub max_running: i32,
    /// Most attempts one request returns; 0 means no limit.
    pub max_attempts_returned: i32,
    /// Most attempts a unit gets before it is failed; 0 means no limit.
    pub max_retries: i32,
    /// Work spec that receives the output of finished units; empty for none.
    pub next_work_spec_name: String,
    /// Number of available units (filled by `meta(true)` only).
    pub available_count: usize,
    /// Number of pending units (filled by `meta(true)` only).
    pub pending_count: usize,
    /// Language runtime the work needs; requests may filter on it.
    pub runtime: String,
}

impl Default for WorkSpecMeta {
    fn default() -> Self {
        WorkSpecMeta {
            priority: 0,
            weight: DEFAULT_WEIGHT,
            paused: false,
            continuous: false,
            can_be_continuous: false,
            min_memory_gb: 0.0,
            interval: Duration::ZERO,
            next_continuous: None,
            max_running: 0,
            max_attempts_returned: 0,
            max_retries: 0,
            next_work_spec_name: String::new(),
            available_count: 0,
            pending_count: 0,
            runtime: String::new(),
        }
    }
}

/// Weight of a work spec whose definition names neither weight nor nice.
pub const DEFAULT_WEIGHT: i32 = 20;

/// Scheduling settings of one work unit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkUnitMeta {
    /// Higher-priority units are handed out first.
    pub priority: f64,
    /// The unit is delayed, not available, until this time.
    pub not_before: Option<DateTime<Utc>>,
}
