//! go-coordinate's REST wire format (its `restdata` package), shared by
//! the client here and the `coordinated` server: no HTTP library, only
//! the shapes, encodings and rules both sides follow.
//!
//! - [`media`]: media types and content negotiation;
//! - [`names`]: names in URLs (`-` + base64url for the unsafe ones);
//! - [`time`]: times (RFC 3339) and durations (nanoseconds);
//! - [`data`]: data as a JSON object or base64 of CBOR;
//! - [`values`]: go's value types (metas, requests, summaries, statuses,
//!   work unit queries);
//! - [`shapes`]: the resource representations;
//! - [`additions`]: the bodies of the routes go lacks;
//! - [`errors`]: error bodies and statuses, both ways.
//!
//! # Routes
//!
//! Clients start at the root document ([`shapes::RootData`], `GET /`) and
//! follow the URLs and templates it and every other representation holds;
//! the paths below are what `coordinated` serves, not a contract. `{…}`
//! are names encoded by [`names::encode_name`]. Bodies and answers are
//! JSON; "204" answers have no body.
//!
//! | method | path | body | answer |
//! | --- | --- | --- | --- |
//! | GET | `/` | | [`shapes::RootData`] |
//! | GET | `/summary` | | list of [`values::SummaryRecordJson`] |
//! | GET | `/namespace` | | [`shapes::NamespaceList`] |
//! | POST | `/namespace` | [`shapes::NamespaceShort`] (name) | 201 [`shapes::Namespace`] |
//! | GET | `/namespace/{ns}` | | [`shapes::Namespace`] (creating it) |
//! | DELETE | `/namespace/{ns}` | | 204 |
//! | GET | `/namespace/{ns}/summary` | | summary |
//! | GET | `/namespace/{ns}/work_spec` | | [`shapes::WorkSpecList`] |
//! | POST | `/namespace/{ns}/work_spec` | [`shapes::WorkSpec`] (data) | 201 [`shapes::WorkSpecShort`] |
//! | GET | `/namespace/{ns}/work_spec/{spec}` | | [`shapes::WorkSpec`]; 404 `ErrNoSuchWorkSpec` |
//! | PUT | `/namespace/{ns}/work_spec/{spec}` | [`shapes::WorkSpec`] (data) | 204 |
//! | DELETE | `/namespace/{ns}/work_spec/{spec}` | | 204 |
//! | GET, PUT | `…/work_spec/{spec}/meta?counts=true` | [`values::WorkSpecMetaJson`] | meta / 204 |
//! | GET | `…/work_spec/{spec}/counts` | | status name → count |
//! | POST | `…/work_spec/{spec}/change?QUERY` | [`shapes::WorkUnit`] (meta.priority) | 204 |
//! | POST | `…/work_spec/{spec}/adjust?QUERY` | [`shapes::WorkUnit`] (meta.priority) | 204 |
//! | GET | `…/work_spec/{spec}/summary` | | summary |
//! | GET | `…/work_spec/{spec}/work_unit?QUERY` | | [`shapes::WorkUnitList`] |
//! | DELETE | `…/work_spec/{spec}/work_unit?QUERY` | | [`shapes::WorkUnitDeleted`] |
//! | POST | `…/work_spec/{spec}/work_unit` | [`shapes::WorkUnit`] (name, data, meta) | 201 [`shapes::WorkUnitShort`] |
//! | GET | `…/work_unit/{unit}` | | [`shapes::WorkUnit`]; 404 `ErrNoSuchWorkUnit` |
//! | PUT | `…/work_unit/{unit}` | [`shapes::WorkUnit`] (meta, or `active_attempt_url: "-"`) | 204 |
//! | GET | `…/work_unit/{unit}/attempts` | | [`shapes::AttemptList`] |
//! | GET | `…/work_unit/{unit}/num-attempts` | | a number |
//! | GET | `…/work_unit/{unit}/attempt/{worker}/{start}` | | [`shapes::Attempt`] |
//! | POST | `…/attempt/{worker}/{start}/renew` (`expire`, `finish`, `fail`, `retry`) | [`shapes::AttemptCompletion`] | 204 |
//! | GET | `/namespace/{ns}/worker` | | [`shapes::WorkerList`] (addition: go has no GET here) |
//! | GET | `/namespace/{ns}/worker/{worker}` | | [`shapes::Worker`] (creating it) |
//! | PUT | `/namespace/{ns}/worker/{worker}` | [`shapes::Worker`] (see its docs) | 204 |
//! | POST | `…/worker/{worker}/request_attempts` | [`values::AttemptRequestJson`] | [`shapes::AttemptResponse`] |
//! | POST | `…/worker/{worker}/make_attempt` | [`shapes::AttemptSpecific`] | [`shapes::Attempt`] |
//! | GET | `…/worker/{worker}/active_attempts` (`all_attempts`, `child_attempts`) | | [`shapes::AttemptList`] |
//!
//! URLs in representations carry `?ref=TOKEN`, the server's reference to
//! the handle behind them (`coordinated`'s `handles` module): a request
//! that keeps it is served by that handle (so a deleted object answers
//! `ErrGone` even once another of its name exists), one without it by
//! the names in its path. The URLs and templates below a resource carry
//! its token too: `{name}` templates before the query
//! (`…/work_spec/{spec}?ref=T`), query templates as its continuation
//! (`…/work_unit?ref=T{&name*,status*,previous,limit}`). Clients treat
//! URLs as opaque: they keep the query, and insert extra path segments
//! before it ([`additions::append_segment`]).
//!
//! `QUERY` is `name` and `status` (repeated), `previous` and `limit`
//! ([`values::query_to_pairs`]). `{start}` is the attempt's start time
//! in RFC 3339 with its fraction ([`time::format_time`]), encoded like a
//! name: unlike go's whole seconds, it tells two attempts of one worker on
//! one unit apart.
//!
//! Additions (go has no such operation). Each path is the resource's URL
//! with one more segment ([`additions::append_segment`]):
//!
//! | method | path | body | answer |
//! | --- | --- | --- | --- |
//! | POST | `…/work_spec/{spec}/work_units` | [`additions::AddWorkUnits`] | 204 |
//! | POST | `…/work_unit/{unit}/set_priority` | [`additions::SetPriority`] | 204 |
//! | POST | `/namespace/{ns}/complete_attempts` | [`additions::CompleteAttempts`] | [`additions::BatchResults`] |
//! | POST | `/namespace/{ns}/renew_attempts` | [`additions::RenewAttempts`] | [`additions::BatchResults`] |
//! | POST | `/namespace/{ns}/wait_for_work` | [`additions::WaitForWork`] | [`additions::WaitResult`] |
//! | POST | `/namespace/{ns}/wait_for_cancellation` | [`additions::WaitForWork`] | [`additions::WaitResult`] |
//! | POST | `/namespace/{ns}/prune` | `coordinate_api::PruneRequest` | `coordinate_api::Pruned` |
//! | POST | `/namespace/{ns}/count_prunable` | `coordinate_api::PruneRequest` | `coordinate_api::Pruned` |
//!
//! `set_priority` exists because go's only way (the work spec's `change`
//! with the unit's name) cannot tell a deleted unit from one that matched
//! nothing. Worker PUTs without `active` (see [`shapes::Worker`]) let a
//! client set a parent without the deactivation go's PUT implies.
//!
//! Errors are [`errors::ErrorResponse`] bodies; [`errors`] has the table.
//!
//! # Test clock headers
//!
//! With `coordinated --test-clock`, a request may carry
//! [`TEST_SESSION_HEADER`], [`TEST_TIME_HEADER`] (RFC 3339 with
//! nanoseconds) and [`TEST_SEED_HEADER`] (a `u64`): the server runs the
//! call on that session's own coordinate, whose mock clock it sets to the
//! time first. Without the flag the server refuses them with 400.

pub mod additions;
pub mod data;
pub mod errors;
pub mod media;
pub mod names;
pub mod shapes;
pub mod time;
pub mod values;

pub use data::DataDict;
pub use errors::{error_from_response, error_response, ErrorResponse};
pub use media::{choose_response_type, is_json_content_type, MediaType, NotAcceptable};
pub use names::{decode_name, encode_name, BadName};

/// Header naming a test session (see the module docs).
pub const TEST_SESSION_HEADER: &str = "X-Coordinate-Test-Session";
/// Header giving a test session's current time.
pub const TEST_TIME_HEADER: &str = "X-Coordinate-Test-Time";
/// Header giving a test session's scheduler seed.
pub const TEST_SEED_HEADER: &str = "X-Coordinate-Test-Seed";

#[cfg(test)]
mod golden;
