//! The in-memory `coordinate` backend: the reference behaviour of the
//! [`coordinate_api`] traits, for tests and single-process use.
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! use coordinate_api::{
//!     AttemptRequest, Coordinate, Data, MockClock, Value, WorkUnitMeta, WorkUnitStatus,
//! };
//! use coordinate_memory::MemoryCoordinate;
//!
//! # fn main() -> coordinate_api::Result<()> {
//! // A mock clock lets the example move time by hand.
//! let clock = Arc::new(MockClock::default());
//! let coordinate: Arc<dyn Coordinate> = Arc::new(MemoryCoordinate::with_clock(clock.clone()));
//! let namespace = coordinate.namespace("example")?;
//!
//! let mut definition = Data::new();
//! definition.insert("name".into(), Value::Text("fetch".into()));
//! let spec = namespace.set_work_spec(definition)?;
//! let unit = spec.add_work_unit("page-1", Data::new(), WorkUnitMeta::default())?;
//!
//! // A worker leases the unit for a minute...
//! let worker = namespace.worker("worker-1")?;
//! let request = AttemptRequest {
//!     lifetime: Duration::from_secs(60),
//!     ..AttemptRequest::default()
//! };
//! let attempts = worker.request_attempts(&request)?;
//! assert_eq!(attempts.len(), 1);
//! assert_eq!(unit.status()?, WorkUnitStatus::Pending);
//!
//! // ...and disappears: once the lease runs out, the unit is available again.
//! clock.advance(Duration::from_secs(61));
//! assert_eq!(unit.status()?, WorkUnitStatus::Available);
//! let again = namespace.worker("worker-2")?.request_attempts(&request)?;
//! again[0].finish(None)?;
//! assert_eq!(unit.status()?, WorkUnitStatus::Finished);
//! # Ok(())
//! # }
//! ```
//!
//! # How it works
//!
//! All state sits behind one mutex shared by a [`MemoryCoordinate`], its
//! clones and every handle made from them; each call is one critical
//! section, so calls are atomic and no unit is ever handed out twice.
//! Handles hold ids, which are never reused: a handle to something deleted
//! (or inside something deleted) returns
//! [`Error::Gone`](coordinate_api::Error::Gone).
//!
//! Claiming work never walks the units: each work spec files its units by
//! status in an index whose available part is ordered by priority and
//! name, and whose delayed part is ordered by not-before time. Pending
//! attempts are ordered by expiration, so expiry only looks at overdue
//! ones. Every timestamp comes from the injected clock, at microsecond
//! precision like the PostgreSQL backend.
#![warn(missing_docs)]

mod attempt;
mod available;
mod claim;
mod completion;
mod coordinate;
mod expiry;
mod namespace;
mod prune;
mod query;
mod work_spec;
mod work_unit;
mod worker;

pub use crate::coordinate::MemoryCoordinate;
