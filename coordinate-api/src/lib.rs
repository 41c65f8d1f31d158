//! The contract every `coordinate` backend implements.
//!
//! Coordinate distributes work across many processes: *namespaces* hold
//! *work specs* (kinds of work), work specs hold *work units* (single pieces
//! of work), and *workers* lease units through *attempts* that expire
//! unless renewed, then finish, fail or retry them. A finished unit's
//! output can become units of the next work spec (`then`).
//!
//! This crate holds what applications use: the traits, value types,
//! errors, the clock, [`typed`] data and work spec [`definition`]s, and the
//! worker [`runtime`] (default feature `runtime`), which runs handlers over
//! any backend through the traits. Pick a backend crate to run it:
//! `coordinate-memory` for tests and single processes, `coordinate-postgres`
//! for production.
//!
//! What only backends use lives under [`backend`], documented as the
//! contract for backend authors: the attempt lifecycle table
//! ([`backend::lifecycle`]), the [`backend::scheduler`], validation and
//! chaining. None of it does I/O.
//!
//! ```
//! use std::sync::Arc;
//! use coordinate_api::{AttemptRequest, Coordinate, Data, Value, WorkUnitMeta, WorkUnitStatus};
//!
//! # fn main() -> coordinate_api::Result<()> {
//! let coordinate: Arc<dyn Coordinate> = Arc::new(coordinate_memory::MemoryCoordinate::new());
//! let namespace = coordinate.namespace("example")?;
//!
//! // A work spec is defined by data with at least a name.
//! let mut definition = Data::new();
//! definition.insert("name".into(), Value::Text("fetch".into()));
//! let spec = namespace.set_work_spec(definition)?;
//!
//! // Queue a unit of work.
//! let mut data = Data::new();
//! data.insert("url".into(), Value::Text("https://example.com/".into()));
//! let unit = spec.add_work_unit("page-1", data, WorkUnitMeta::default())?;
//!
//! // A worker asks for work and gets a leased attempt.
//! let worker = namespace.worker("worker-1")?;
//! let attempts = worker.request_attempts(&AttemptRequest::default())?;
//! assert_eq!(attempts.len(), 1);
//! assert_eq!(unit.status()?, WorkUnitStatus::Pending);
//!
//! // ... does the work, then reports it done.
//! attempts[0].finish(None)?;
//! assert_eq!(unit.status()?, WorkUnitStatus::Finished);
//! # Ok(())
//! # }
//! ```
//!
//! # Errors
//!
//! Every call returns [`Error`]. Refusals name what they refer to:
//! [`Error::Gone`] the handle whose object (or one of its parents) was
//! deleted, with its [`ObjectKind`]; [`Error::NotPending`] and
//! [`Error::LostLease`] the work unit and work spec of the attempt.
//! Storage failures are [`Error::Backend`] with a [`BackendErrorKind`]
//! (unavailable, pool exhausted, conflict, schema, timeout, other) and the
//! backend's own error as the source. [`Error::is_transient`] says whether
//! trying again later can succeed: a worker loop retries those and stops
//! on the rest.
//!
//! ```
//! use coordinate_api::{BackendErrorKind, Error};
//!
//! let busy = Error::backend(BackendErrorKind::PoolExhausted, "all 10 connections busy");
//! assert!(busy.is_transient());
//! let broken = Error::backend(BackendErrorKind::Schema, "migration 7 failed");
//! assert!(!broken.is_transient());
//! ```
#![warn(missing_docs)]

pub mod attempt;
pub mod backend;
pub mod clock;
pub mod completion;
pub mod coordinate;
pub mod data;
pub mod definition;
pub mod error;
pub mod meta;
pub mod namespace;
pub mod operate;
pub mod query;
pub mod retention;
#[cfg(feature = "runtime")]
pub mod runtime;
pub mod status;
pub mod summary;
pub mod typed;
pub mod work_spec;
pub mod work_unit;
pub mod worker;

pub use crate::attempt::Attempt;
pub use crate::clock::{Clock, MockClock, SystemClock};
pub use crate::completion::{Completion, Outcome, Wakeup};
pub use crate::coordinate::Coordinate;
pub use crate::data::{Data, Value};
pub use crate::error::{BackendErrorKind, Error, ObjectKind, Result};
pub use crate::meta::{WorkSpecMeta, WorkUnitMeta};
pub use crate::namespace::Namespace;
pub use crate::query::{AttemptRequest, WorkUnitQuery};
pub use crate::retention::{PruneRequest, Pruned};
pub use crate::status::{AttemptStatus, WorkUnitStatus};
pub use crate::summary::{Summary, SummaryRecord};
pub use crate::work_spec::WorkSpec;
pub use crate::work_unit::{NewWorkUnit, WorkUnit};
pub use crate::worker::Worker;

#[cfg(any(test, feature = "mock"))]
pub use crate::{
    attempt::MockAttempt, coordinate::MockCoordinate, namespace::MockNamespace,
    work_spec::MockWorkSpec, work_unit::MockWorkUnit, worker::MockWorker,
};

/// Recovers a backend's concrete handle type from a trait object, or
/// [`Error::WrongBackend`] when the object came from another backend.
///
/// ```
/// # use coordinate_api::{downcast, Error, Worker};
/// # fn check(worker: &dyn Worker) {
/// struct MyWorker;
/// assert!(matches!(downcast::<MyWorker>(worker as &dyn std::any::Any), Err(Error::WrongBackend)));
/// # }
/// ```
pub fn downcast<T: 'static>(object: &dyn std::any::Any) -> Result<&T> {
    object.downcast_ref::<T>().ok_or(Error::WrongBackend)
}
