//! go-coordinate's REST API for the `coordinate` crates: the wire format
//! ([`wire`]) shared with the `coordinated` server, and (feature
//! `client`, on by default) [`RestCoordinate`], a backend that talks to
//! such a server over HTTP, so that an application's `Arc<dyn Coordinate>`
//! can point at a server.
//!
//! ```no_run
//! # #[cfg(feature = "client")]
//! # fn main() -> coordinate_api::Result<()> {
//! use std::sync::Arc;
//! use coordinate_api::{Coordinate, Data, Value};
//! use coordinate_rest::RestCoordinate;
//!
//! // A token may also go in the URL: http://any:TOKEN@localhost:5980/
//! // (sent as HTTP Basic, as go-coordinate's client does).
//! let coordinate: Arc<dyn Coordinate> = Arc::new(
//!     RestCoordinate::builder("http://localhost:5980/")
//!         .token("s3cret")
//!         .build()?,
//! );
//! let namespace = coordinate.namespace("example")?;
//! let mut definition = Data::new();
//! definition.insert("name".into(), Value::Text("fetch".into()));
//! namespace.set_work_spec(definition)?;
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "client"))]
//! # fn main() {}
//! ```
//!
//! # Tests with a mock clock
//!
//! A server started with `coordinated --test-clock` keeps a store of its
//! own per *test session*, with a mock clock and a seeded scheduler. A
//! client given a clock sends, with every request, its session id, the
//! clock's current time and the seed ([`wire`] names the headers), so the
//! server runs each call at the test's time:
//!
//! ```no_run
//! # #[cfg(feature = "client")]
//! # fn main() -> coordinate_api::Result<()> {
//! use std::sync::Arc;
//! use coordinate_api::{Clock, MockClock};
//! use coordinate_rest::RestCoordinate;
//!
//! let clock = Arc::new(MockClock::default());
//! let coordinate = RestCoordinate::builder("http://127.0.0.1:5980/")
//!     .test_clock(clock.clone() as Arc<dyn Clock>, 7)
//!     // Coordinates of one test case share a session (and so a store),
//!     // as processes sharing a database do; without this each builder
//!     // gets a session of its own.
//!     .test_session("case-42")
//!     .build()?;
//! clock.advance(std::time::Duration::from_secs(60)); // the next call runs a minute later
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "client"))]
//! # fn main() {}
//! ```
//!
//! # How calls travel
//!
//! Every call is one or more requests following the URLs the server hands
//! out (the [`wire`] module lists the routes), as given: a handle keeps
//! the URL it was made from, query string and all, so `coordinated`
//! serves its calls through the same server-side handle (and a handle
//! whose object was deleted answers [`Error::Gone`](coordinate_api::Error::Gone)
//! rather than reaching a namesake made since). A 503 answer with
//! `Retry-After` is tried again after that many seconds (at most 8 tries,
//! at most 30 s apart); a server that cannot be reached is
//! [`Error::Backend`](coordinate_api::Error::Backend) of kind
//! `Unavailable`, which is transient. The server's errors come back as
//! the same [`coordinate_api::Error`] variants a local backend gives.
//! Calls that take a second handle (`set_parent`, `make_attempt`,
//! `complete_attempts`, `renew_attempts`) refuse a handle of another
//! `RestCoordinate`, as other backends refuse one of another store.
#![warn(missing_docs)]

pub mod data_json;
pub mod wire;

#[cfg(feature = "client")]
pub mod client;

#[cfg(feature = "client")]
pub use client::{RestCoordinate, RestCoordinateBuilder};
