//! The resource representations of go's `restdata`, one struct per go
//! type, with go's JSON field names. go embeds `url` and `name` from
//! shared base types; here they are plain fields.
//!
//! Readers are lenient where go's writers leave things out (`null` lists,
//! missing fields read as their defaults). URL fields are what clients
//! follow: a client never builds a URL the server did not hand it, except
//! by filling in a template (`{namespace}`, `{spec}`, `{unit}`,
//! `{worker}`, `{?counts}`, `{?name*,status*,previous,limit}`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::time::Duration;

use super::data::DataDict;
use super::time;
use super::values::{attempt_status, null_as_default, unit_status, WorkUnitMetaJson};
use coordinate_api::{AttemptStatus, WorkUnitStatus};

/// The root document: where everything else is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RootData {
    /// This document's URL.
    #[serde(default)]
    pub url: String,
    /// GET: the summary of every namespace.
    #[serde(default)]
    pub summary_url: String,
    /// GET: [`NamespaceList`]; POST a [`NamespaceShort`] (its name) to
    /// create one.
    #[serde(default)]
    pub namespaces_url: String,
    /// Template with `{namespace}`: GET (creating it) and DELETE.
    #[serde(default)]
    pub namespace_url: String,
}

/// A namespace's name and URL.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NamespaceShort {
    /// Its URL.
    #[serde(default)]
    pub url: String,
    /// Its name.
    #[serde(default)]
    pub name: String,
}

/// The list of namespaces.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NamespaceList {
    /// Every namespace, in name order.
    #[serde(default, deserialize_with = "null_as_default")]
    pub namespaces: Vec<NamespaceShort>,
}

/// A namespace and the URLs of what it holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Namespace {
    /// Its URL.
    #[serde(default)]
    pub url: String,
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// GET: its summary.
    #[serde(default)]
    pub summary_url: String,
    /// GET: [`WorkSpecList`]; POST a [`WorkSpec`] (its data) to set one.
    #[serde(default)]
    pub work_specs_url: String,
    /// Template with `{spec}`: GET, PUT (data), DELETE.
    #[serde(default)]
    pub work_spec_url: String,
    /// GET: [`WorkerList`] (an addition: go answers 405).
    #[serde(default)]
    pub workers_url: String,
    /// Template with `{worker}`: GET (creating it) and PUT.
    #[serde(default)]
    pub worker_url: String,
}

/// A work spec's name and URL.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkSpecShort {
    /// Its URL.
    #[serde(default)]
    pub url: String,
    /// Its name.
    #[serde(default)]
    pub name: String,
}

/// The work specs of a namespace.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkSpecList {
    /// Every work spec, in name order.
    #[serde(default, deserialize_with = "null_as_default")]
    pub work_specs: Vec<WorkSpecShort>,
}

/// A work spec: its definition and the URLs of its parts. A POST or PUT
/// needs only `data`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkSpec {
    /// Its URL.
    #[serde(default)]
    pub url: String,
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// The definition.
    #[serde(default)]
    pub data: Option<DataDict>,
    /// GET: its summary.
    #[serde(default)]
    pub summary_url: String,
    /// GET: [`WorkUnitList`] of every unit; POST a [`WorkUnit`] to add one.
    #[serde(default)]
    pub work_units_url: String,
    /// Template with the query: GET ([`WorkUnitList`]), DELETE
    /// ([`WorkUnitDeleted`]).
    #[serde(default)]
    pub work_unit_query_url: String,
    /// Template with `{unit}`: GET and PUT.
    #[serde(default)]
    pub work_unit_url: String,
    /// GET: the count of units per status name.
    #[serde(default)]
    pub work_unit_counts_url: String,
    /// Template with the query: POST a [`WorkUnit`] whose meta priority
    /// becomes the priority of every unit selected.
    #[serde(default)]
    pub work_unit_change_url: String,
    /// Template with the query: POST a [`WorkUnit`] whose meta priority
    /// is added to every unit selected.
    #[serde(default)]
    pub work_unit_adjust_url: String,
    /// Template with `{?counts}`: GET and PUT the work spec meta.
    #[serde(default, rename = "meta")]
    pub meta_url: String,
}

/// A work unit's name and URL.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkUnitShort {
    /// Its URL.
    #[serde(default)]
    pub url: String,
    /// Its name.
    #[serde(default)]
    pub name: String,
}

/// Work units.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkUnitList {
    /// The units, in name order.
    #[serde(default, deserialize_with = "null_as_default")]
    pub work_units: Vec<WorkUnitShort>,
}

/// A work unit. A POST to a work spec's units needs `name`, `data` and
/// `meta`; a PUT changes `meta` if given and clears the active attempt
/// when `active_attempt_url` is `"-"`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkUnit {
    /// Its URL.
    #[serde(default)]
    pub url: String,
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// Its data (the active attempt's, if that has its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<DataDict>,
    /// Priority and not-before time.
    #[serde(default)]
    pub meta: Option<WorkUnitMetaJson>,
    /// Its status; `None` ("any") in requests.
    #[serde(default, with = "unit_status")]
    pub status: Option<WorkUnitStatus>,
    /// Its work spec's URL.
    #[serde(default)]
    pub work_spec_url: String,
    /// The active attempt's URL, if it has one; `"-"` in a PUT clears it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_attempt_url: Option<String>,
    /// GET: [`AttemptList`] of every attempt, oldest first.
    #[serde(default)]
    pub attempts_url: String,
}

/// How many units a DELETE of the work unit query removed (go's field
/// is capitalised).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkUnitDeleted {
    /// The number removed.
    #[serde(rename = "Deleted")]
    pub deleted: usize,
}

/// A worker's name and URL.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkerShort {
    /// Its URL.
    #[serde(default)]
    pub url: String,
    /// Its name.
    #[serde(default)]
    pub name: String,
}

/// The workers of a namespace (an addition: go has no such list).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkerList {
    /// Every worker, in name order.
    #[serde(default, deserialize_with = "null_as_default")]
    pub workers: Vec<WorkerShort>,
}

/// A worker. In a PUT: `parent`, when given, sets the parent by name
/// (`""` clears it); `active: true` records a report from `data`, `mode`,
/// `expiration` and `last_update`; `active: false` deactivates; no
/// `active` at all (which go's clients never send) leaves both alone.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Worker {
    /// Its URL.
    #[serde(default)]
    pub url: String,
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// The parent's name, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// The parent's URL, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_url: Option<String>,
    /// The children's URLs, in name order.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub child_urls: Vec<String>,
    /// Whether it is active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// The mode of its last report.
    #[serde(default)]
    pub mode: String,
    /// The data of its last report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<DataDict>,
    /// When its last report stops being current.
    #[serde(
        default,
        with = "time::optional",
        skip_serializing_if = "Option::is_none"
    )]
    pub expiration: Option<DateTime<Utc>>,
    /// When it last reported.
    #[serde(
        default,
        with = "time::optional",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_update: Option<DateTime<Utc>>,
    /// POST an attempt request: [`AttemptResponse`].
    #[serde(default)]
    pub request_attempts_url: String,
    /// POST an [`AttemptSpecific`]: the new [`Attempt`].
    #[serde(default)]
    pub make_attempt_url: String,
    /// GET: [`AttemptList`] of its pending attempts.
    #[serde(default)]
    pub active_attempts_url: String,
    /// GET: [`AttemptList`] of all its attempts.
    #[serde(default)]
    pub all_attempts_url: String,
    /// GET: [`AttemptList`] of its children's active attempts.
    #[serde(default)]
    pub child_attempts_url: String,
}

/// The body of a worker's make-attempt POST.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AttemptSpecific {
    /// The work spec's name.
    #[serde(default)]
    pub work_spec: String,
    /// The work unit's name.
    #[serde(default)]
    pub work_unit: String,
    /// The lease, in nanoseconds.
    #[serde(default, with = "time::nanos")]
    pub lifetime: Duration,
}

/// The answer to a request for attempts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AttemptResponse {
    /// The work spec of every attempt, if there are any.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub work_spec_url: String,
    /// The attempts, in full.
    #[serde(default, deserialize_with = "null_as_default")]
    pub attempts: Vec<Attempt>,
    /// The work spec itself (without its data): our addition (go's clients
    /// ignore it), so that a claim costs a client one request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_spec: Option<Box<WorkSpec>>,
}

/// An attempt's URL and what identifies it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptShort {
    /// Its URL.
    #[serde(default)]
    pub url: String,
    /// Its work unit's URL.
    #[serde(default)]
    pub work_unit_url: String,
    /// Its worker's URL.
    #[serde(default)]
    pub worker_url: String,
    /// When it was made.
    #[serde(with = "time::required")]
    pub start_time: DateTime<Utc>,
}

/// Attempts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AttemptList {
    /// The attempts.
    #[serde(default, deserialize_with = "null_as_default")]
    pub attempts: Vec<AttemptShort>,
}

/// An attempt in full, with the URLs that end or renew it (POST an
/// [`AttemptCompletion`] to each; the answer is 204).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    /// Its URL.
    #[serde(default)]
    pub url: String,
    /// Its work unit's URL.
    #[serde(default)]
    pub work_unit_url: String,
    /// Its worker's URL.
    #[serde(default)]
    pub worker_url: String,
    /// When it was made.
    #[serde(with = "time::required")]
    pub start_time: DateTime<Utc>,
    /// Its status.
    #[serde(with = "attempt_status")]
    pub status: AttemptStatus,
    /// Its data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<DataDict>,
    /// When it ended, if it has.
    #[serde(
        default,
        with = "time::optional",
        skip_serializing_if = "Option::is_none"
    )]
    pub end_time: Option<DateTime<Utc>>,
    /// When its lease runs out.
    #[serde(with = "time::required")]
    pub expiration_time: DateTime<Utc>,
    /// Renews the lease (`extend_duration`, and `data` if given).
    #[serde(default)]
    pub renew_url: String,
    /// Gives the lease up.
    #[serde(default)]
    pub expire_url: String,
    /// Finishes the work.
    #[serde(default)]
    pub finish_url: String,
    /// Fails the work.
    #[serde(default)]
    pub fail_url: String,
    /// Asks for a retry after `delay`.
    #[serde(default)]
    pub retry_url: String,
    /// Its work unit's name: our addition (go's clients ignore it), so a
    /// client holding the attempt needs no request to learn its unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_unit: Option<String>,
}

/// The body of an attempt's renew, expire, finish, fail and retry POSTs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AttemptCompletion {
    /// New data for the attempt; none keeps what it has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<DataDict>,
    /// How far to extend the lease (renew), in nanoseconds.
    #[serde(default, with = "time::nanos")]
    pub extend_duration: Duration,
    /// How long to wait before the retry (retry), in nanoseconds.
    #[serde(default, with = "time::nanos")]
    pub delay: Duration,
}
