//! The JSON forms of go's `coordinate` value types: statuses, work spec
//! and work unit metadata, attempt requests, summaries, and work unit
//! queries (which travel in query strings).
//!
//! Statuses are written as go writes them, lower-case words
//! (`"available"`, `"retryable"`); go's integer values are read too.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use coordinate_api::{
    AttemptRequest, AttemptStatus, SummaryRecord, WorkSpecMeta, WorkUnitMeta, WorkUnitQuery,
    WorkUnitStatus,
};
use serde::{Deserialize, Deserializer, Serialize};

use super::names::{decode_name, encode_name, BadName};
use super::time;

/// A status as go may send it: its name or its integer value.
#[derive(Deserialize)]
#[serde(untagged)]
enum NameOrNumber {
    Name(String),
    Number(i64),
}

/// Reads a work unit status: `"available"`… or go's 1 to 5. Go's "any"
/// (0) is no status, `None`.
pub fn parse_work_unit_status(name: &str) -> Result<Option<WorkUnitStatus>, String> {
    Ok(Some(match name {
        "any" => return Ok(None),
        "available" => WorkUnitStatus::Available,
        "pending" => WorkUnitStatus::Pending,
        "finished" => WorkUnitStatus::Finished,
        "failed" => WorkUnitStatus::Failed,
        "delayed" => WorkUnitStatus::Delayed,
        other => return Err(format!("{other:?} is not a work unit status")),
    }))
}

fn work_unit_status_number(number: i64) -> Result<Option<WorkUnitStatus>, String> {
    match number {
        0 => Ok(None),
        1..=5 => Ok(Some(WorkUnitStatus::ALL[number as usize - 1])),
        other => Err(format!("{other} is not a work unit status")),
    }
}

/// Serde form of an optional work unit status (`"any"`, 0 and `null`
/// read as `None`).
pub mod unit_status {
    use super::*;

    /// Writes the status's name, or `null`.
    pub fn serialize<S: serde::Serializer>(
        status: &Option<WorkUnitStatus>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match status {
            Some(status) => serializer.serialize_str(status.as_str()),
            None => serializer.serialize_none(),
        }
    }

    /// Reads a name or go's integer.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<WorkUnitStatus>, D::Error> {
        match Option::<NameOrNumber>::deserialize(deserializer)? {
            None => Ok(None),
            Some(NameOrNumber::Name(name)) => parse_work_unit_status(&name),
            Some(NameOrNumber::Number(n)) => work_unit_status_number(n),
        }
        .map_err(serde::de::Error::custom)
    }
}

/// Serde form of an attempt status: its name, or go's 0 to 4.
pub mod attempt_status {
    use super::*;

    /// Writes the status's name.
    pub fn serialize<S: serde::Serializer>(
        status: &AttemptStatus,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(status.as_str())
    }

    /// Reads a name or go's integer.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<AttemptStatus, D::Error> {
        match NameOrNumber::deserialize(deserializer)? {
            NameOrNumber::Name(name) => AttemptStatus::parse(&name)
                .ok_or_else(|| format!("{name:?} is not an attempt status")),
            NameOrNumber::Number(n) => usize::try_from(n)
                .ok()
                .and_then(|i| AttemptStatus::ALL.get(i).copied())
                .ok_or_else(|| format!("{n} is not an attempt status")),
        }
        .map_err(serde::de::Error::custom)
    }
}

/// Reads `null` as the type's default (go writes empty lists as `null`).
pub fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// go's `WorkSpecMeta`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkSpecMetaJson {
    /// See [`WorkSpecMeta::priority`].
    #[serde(default)]
    pub priority: i32,
    /// See [`WorkSpecMeta::weight`].
    #[serde(default)]
    pub weight: i32,
    /// See [`WorkSpecMeta::paused`].
    #[serde(default)]
    pub paused: bool,
    /// See [`WorkSpecMeta::continuous`].
    #[serde(default)]
    pub continuous: bool,
    /// See [`WorkSpecMeta::can_be_continuous`].
    #[serde(default)]
    pub can_be_continuous: bool,
    /// See [`WorkSpecMeta::min_memory_gb`]; left out when 0, as go does.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub min_memory_gb: f64,
    /// See [`WorkSpecMeta::interval`], in nanoseconds.
    #[serde(default, with = "time::nanos")]
    pub interval: Duration,
    /// See [`WorkSpecMeta::next_continuous`].
    #[serde(default, with = "time::optional")]
    pub next_continuous: Option<DateTime<Utc>>,
    /// See [`WorkSpecMeta::max_running`].
    #[serde(default)]
    pub max_running: i32,
    /// See [`WorkSpecMeta::max_attempts_returned`].
    #[serde(default)]
    pub max_attempts_returned: i32,
    /// See [`WorkSpecMeta::max_retries`].
    #[serde(default)]
    pub max_retries: i32,
    /// See [`WorkSpecMeta::next_work_spec_name`].
    #[serde(default)]
    pub next_work_spec_name: String,
    /// See [`WorkSpecMeta::available_count`].
    #[serde(default)]
    pub available_count: usize,
    /// See [`WorkSpecMeta::pending_count`].
    #[serde(default)]
    pub pending_count: usize,
    /// See [`WorkSpecMeta::runtime`].
    #[serde(default)]
    pub runtime: String,
}

fn is_zero(value: &f64) -> bool {
    *value == 0.0
}

impl From<WorkSpecMeta> for WorkSpecMetaJson {
    fn from(m: WorkSpecMeta) -> Self {
        WorkSpecMetaJson {
            priority: m.priority,
            weight: m.weight,
            paused: m.paused,
            continuous: m.continuous,
            can_be_continuous: m.can_be_continuous,
            min_memory_gb: m.min_memory_gb,
            interval: m.interval,
            next_continuous: m.next_continuous,
            max_running: m.max_running,
            max_attempts_returned: m.max_attempts_returned,
            max_retries: m.max_retries,
            next_work_spec_name: m.next_work_spec_name,
            available_count: m.available_count,
            pending_count: m.pending_count,
            runtime: m.runtime,
        }
    }
}

impl From<WorkSpecMetaJson> for WorkSpecMeta {
    fn from(m: WorkSpecMetaJson) -> Self {
        WorkSpecMeta {
            priority: m.priority,
            weight: m.weight,
            paused: m.paused,
            continuous: m.continuous,
            can_be_continuous: m.can_be_continuous,
            min_memory_gb: m.min_memory_gb,
            interval: m.interval,
            next_continuous: m.next_continuous,
            max_running: m.max_running,
            max_attempts_returned: m.max_attempts_returned,
            max_retries: m.max_retries,
            next_work_spec_name: m.next_work_spec_name,
            available_count: m.available_count,
            pending_count: m.pending_count,
            runtime: m.runtime,
        }
    }
}

/// go's `WorkUnitMeta`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkUnitMetaJson {
    /// See [`WorkUnitMeta::priority`].
    #[serde(default)]
    pub priority: f64,
    /// See [`WorkUnitMeta::not_before`].
    #[serde(default, with = "time::optional")]
    pub not_before: Option<DateTime<Utc>>,
}

impl From<WorkUnitMeta> for WorkUnitMetaJson {
    fn from(m: WorkUnitMeta) -> Self {
        WorkUnitMetaJson {
            priority: m.priority,
            not_before: m.not_before,
        }
    }
}

impl From<WorkUnitMetaJson> for WorkUnitMeta {
    fn from(m: WorkUnitMetaJson) -> Self {
        WorkUnitMeta {
            priority: m.priority,
            not_before: m.not_before,
        }
    }
}

/// go's `AttemptRequest`. go's clients send a lifetime of 0 for "the
/// default"; [`AttemptRequestJson::into_request`] keeps the value as
/// sent, the server decides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptRequestJson {
    /// See [`AttemptRequest::available_gb`].
    #[serde(default)]
    pub available_gb: f64,
    /// See [`AttemptRequest::lifetime`], in nanoseconds.
    #[serde(default, with = "time::nanos")]
    pub lifetime: Duration,
    /// See [`AttemptRequest::number_of_work_units`].
    #[serde(default)]
    pub number_of_work_units: usize,
    /// See [`AttemptRequest::work_specs`].
    #[serde(default, deserialize_with = "null_as_default")]
    pub work_specs: Vec<String>,
    /// See [`AttemptRequest::runtimes`].
    #[serde(default, deserialize_with = "null_as_default")]
    pub runtimes: Vec<String>,
}

impl From<&AttemptRequest> for AttemptRequestJson {
    fn from(r: &AttemptRequest) -> Self {
        AttemptRequestJson {
            available_gb: r.available_gb,
            lifetime: r.lifetime,
            number_of_work_units: r.number_of_work_units,
            work_specs: r.work_specs.clone(),
            runtimes: r.runtimes.clone(),
        }
    }
}

impl AttemptRequestJson {
    /// The request as sent.
    pub fn into_request(self) -> AttemptRequest {
        AttemptRequest {
            available_gb: self.available_gb,
            lifetime: self.lifetime,
            number_of_work_units: self.number_of_work_units,
            work_specs: self.work_specs,
            runtimes: self.runtimes,
        }
    }
}

/// go's `SummaryRecord` (go gives it no JSON tags, so its field names
/// are capitalised). A summary is a JSON list of these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryRecordJson {
    /// The namespace.
    #[serde(rename = "Namespace")]
    pub namespace: String,
    /// The work spec.
    #[serde(rename = "WorkSpec")]
    pub work_spec: String,
    /// The status counted (never "any" in a summary).
    #[serde(rename = "Status", with = "unit_status")]
    pub status: Option<WorkUnitStatus>,
    /// How many units.
    #[serde(rename = "Count")]
    pub count: usize,
}

impl From<SummaryRecord> for SummaryRecordJson {
    fn from(r: SummaryRecord) -> Self {
        SummaryRecordJson {
            namespace: r.namespace,
            work_spec: r.work_spec,
            status: Some(r.status),
            count: r.count,
        }
    }
}

impl SummaryRecordJson {
    /// The record, or `None` for one without a status.
    pub fn into_record(self) -> Option<SummaryRecord> {
        Some(SummaryRecord {
            namespace: self.namespace,
            work_spec: self.work_spec,
            status: self.status?,
            count: self.count,
        })
    }
}

/// The answer of a work spec's counts URL: status name to count.
pub type WorkUnitCountsJson = BTreeMap<String, usize>;

/// The query string pairs (unescaped; every value is URL-safe) that
/// select what `query` selects: `name` and `status` repeated, `previous`,
/// `limit`. Names are encoded as in paths.
pub fn query_to_pairs(query: &WorkUnitQuery) -> Vec<(&'static str, String)> {
    let mut pairs = Vec::new();
    pairs.extend(query.names.iter().map(|n| ("name", encode_name(n))));
    pairs.extend(
        query
            .statuses
            .iter()
            .map(|s| ("status", s.as_str().to_owned())),
    );
    if let Some(previous) = &query.previous_name {
        pairs.push(("previous", encode_name(previous)));
    }
    if let Some(limit) = query.limit {
        pairs.push(("limit", limit.to_string()));
    }
    pairs
}

/// Why a query string does not make a work unit query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BadQuery {
    /// A `name` or `previous` value is not an encoded name.
    Name(BadName),
    /// A `status` value is not a status.
    Status(String),
    /// `limit` is not a whole number.
    Limit(String),
}

impl std::fmt::Display for BadQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BadQuery::Name(bad) => bad.fmt(f),
            BadQuery::Status(why) => f.write_str(why),
            BadQuery::Limit(value) => write!(f, "limit {value:?} is not a whole number"),
        }
    }
}

impl std::error::Error for BadQuery {}

/// The work unit query of decoded query-string pairs. Unknown keys are
/// ignored; "any" as a status selects nothing more than no status.
pub fn query_from_pairs<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<WorkUnitQuery, BadQuery> {
    let mut query = WorkUnitQuery::default();
    for (key, value) in pairs {
        match key {
            "name" => query
                .names
                .push(decode_name(value).map_err(BadQuery::Name)?),
            "status" => {
                if let Some(status) = parse_work_unit_status(value).map_err(BadQuery::Status)? {
                    query.statuses.push(status);
                }
            }
            "previous" => query.previous_name = Some(decode_name(value).map_err(BadQuery::Name)?),
            "limit" => {
                query.limit = Some(
                    value
                        .parse()
                        .map_err(|_| BadQuery::Limit(value.to_owned()))?,
                )
            }
            _ => {}
        }
    }
    Ok(query)
}
