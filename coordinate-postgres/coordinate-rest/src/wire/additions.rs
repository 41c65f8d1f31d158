//! Bodies of the routes go-coordinate lacks. Each route is a path segment
//! appended to the URL of the resource it belongs to (before any query
//! string), so it needs no template of its own.

use serde::{Deserialize, Serialize};
use std::time::Duration;

use coordinate_api::Wakeup;

use super::data::DataDict;
use super::errors::ErrorResponse;
use super::time;
use super::values::WorkUnitMetaJson;

/// Segment of a work spec's batched add: POST [`AddWorkUnits`], 204.
pub const WORK_UNITS: &str = "work_units";
/// Segment of a work unit's priority change: POST [`SetPriority`], 204.
pub const SET_PRIORITY: &str = "set_priority";
/// Segment of a namespace's batched completion: POST
/// [`CompleteAttempts`], 200 [`BatchResults`].
pub const COMPLETE_ATTEMPTS: &str = "complete_attempts";
/// Segment of a namespace's batched renewal: POST [`RenewAttempts`],
/// 200 [`BatchResults`].
pub const RENEW_ATTEMPTS: &str = "renew_attempts";
/// Segment of a namespace's wait: POST [`WaitForWork`], 200 [`WaitResult`].
pub const WAIT_FOR_WORK: &str = "wait_for_work";
/// Segment of a namespace's wait for attempts taken from their workers:
/// POST [`WaitForWork`] (the same body), 200 [`WaitResult`].
pub const WAIT_FOR_CANCELLATION: &str = "wait_for_cancellation";
/// Segment of a namespace's pruning: POST a `PruneRequest`, 200 `Pruned`
/// (both in the field names of `coordinate_api`, times RFC 3339).
pub const PRUNE: &str = "prune";
/// Segment of a namespace's dry-run pruning: as [`PRUNE`].
pub const COUNT_PRUNABLE: &str = "count_prunable";

/// One unit of a batched add.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewWorkUnitJson {
    /// The unit's name.
    pub name: String,
    /// Its data.
    #[serde(default)]
    pub data: Option<DataDict>,
    /// Its priority and not-before time.
    #[serde(default)]
    pub meta: Option<WorkUnitMetaJson>,
}

/// The body of a batched add.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AddWorkUnits {
    /// The units, as `WorkSpec::add_work_units` takes them.
    pub work_units: Vec<NewWorkUnitJson>,
}

/// The body of a work unit's priority change.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SetPriority {
    /// The new priority.
    pub priority: f64,
}

/// How one attempt of a batch ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeName {
    /// `Attempt::finish`.
    Finish,
    /// `Attempt::fail`.
    Fail,
    /// `Attempt::retry`, after `delay`.
    Retry,
    /// `Attempt::expire`.
    Expire,
}

/// One entry of a batched completion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompletionJson {
    /// The attempt's URL, as the server handed it out.
    pub attempt: String,
    /// How it ends.
    pub outcome: OutcomeName,
    /// New data, or `null` to keep the attempt's.
    #[serde(default)]
    pub data: Option<DataDict>,
    /// The retry delay in nanoseconds (0 for the other outcomes).
    #[serde(default, with = "time::nanos")]
    pub delay: Duration,
}

/// The body of a batched completion.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CompleteAttempts {
    /// The entries, applied in order.
    pub completions: Vec<CompletionJson>,
}

/// The body of a batched renewal.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RenewAttempts {
    /// The attempts' URLs.
    pub attempts: Vec<String>,
    /// The new lease, from now, in nanoseconds.
    #[serde(with = "time::nanos")]
    pub extend_duration: Duration,
}

/// The answer of a batch: one entry per request entry, in order, `null`
/// for success or the error that entry alone met.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BatchResults {
    /// One result per entry.
    pub results: Vec<Option<ErrorResponse>>,
}

/// The body of a wait for work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitForWork {
    /// The longest wait, in nanoseconds.
    #[serde(with = "time::nanos")]
    pub timeout: Duration,
}

/// How a wait ended: the names of [`Wakeup`]'s variants in snake case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WakeupName {
    /// [`Wakeup::Woken`].
    Woken,
    /// [`Wakeup::TimedOut`].
    TimedOut,
    /// [`Wakeup::Polling`].
    Polling,
}

impl From<Wakeup> for WakeupName {
    fn from(wakeup: Wakeup) -> Self {
        match wakeup {
            Wakeup::Woken => WakeupName::Woken,
            Wakeup::TimedOut => WakeupName::TimedOut,
            Wakeup::Polling => WakeupName::Polling,
        }
    }
}

impl From<WakeupName> for Wakeup {
    fn from(name: WakeupName) -> Self {
        match name {
            WakeupName::Woken => Wakeup::Woken,
            WakeupName::TimedOut => Wakeup::TimedOut,
            WakeupName::Polling => Wakeup::Polling,
        }
    }
}

/// The answer of a wait for work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitResult {
    /// How the wait ended.
    pub wakeup: WakeupName,
}

/// `url` with `segment` appended to its path, before any query string:
/// how a client reaches an addition from the resource it belongs to.
pub fn append_segment(url: &str, segment: &str) -> String {
    let (path, query) = match url.find(['?', '#']) {
        Some(at) => url.split_at(at),
        None => (url, ""),
    };
    format!("{}/{segment}{query}", path.trim_end_matches('/'))
}
