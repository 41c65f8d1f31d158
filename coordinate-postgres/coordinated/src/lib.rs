//! `coordinated`: go-coordinate's daemon in Rust. It serves go-coordinate's
//! REST API over a coordinate backend (memory, PostgreSQL, or another
//! coordinated), close enough on the wire that go-coordinate's own client
//! works against it unchanged.
//!
//! The binary is what operators run (`coordinated -backend postgres://…`);
//! this library exposes its router so that tests can drive it in process:
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use coordinated::{router, AppState, ServerConfig, SummarySampler};
//! use coordinate_memory::MemoryCoordinate;
//!
//! let sampler = SummarySampler::new(Duration::from_secs(120), false);
//! let state = AppState::new(
//!     Arc::new(MemoryCoordinate::new()),
//!     None,
//!     ServerConfig::default(),
//!     sampler,
//! );
//! let app: axum::Router = router(state);
//! # drop(app);
//! ```
//!
//! # URLs are handles
//!
//! Every resource URL the server hands out (in bodies and `Location`)
//! carries `?ref=TOKEN`, the token of the backend handle it was made from
//! ([`handles`]); the URLs and templates below a resource carry its token
//! too (`…/work_spec/{spec}?ref=T`, `…/work_unit?ref=T{&name*,…}`). A
//! request with a known token is served by that very handle, so a client
//! holding the URL of a deleted object gets `ErrGone`, even after an
//! object of the same name was made, as a backend's own handle answers;
//! two attempts that share a path (one worker, one unit, one instant) are
//! told apart. A request without `ref` (go's client builds none, and
//! hand-written URLs), or with a token the bounded registry has since
//! dropped, is resolved by the names in its path, as go-coordinate does;
//! a token that does not fit its path is refused (400).
//!
//! So clients must treat URLs as opaque and follow them as given: keep
//! the query string, insert extra path segments before it, and fill in
//! templates rather than build paths from names.
//!
//! The stack: axum on tokio (a multi-threaded runtime with two workers),
//! every store call on tokio's blocking pool behind a bounded queue
//! ([`store`]), rustls with the `ring` provider for TLS ([`tls`]).
#![warn(missing_docs)]

pub mod app;
pub mod auth;
pub mod backend;
pub mod cli;
pub mod dashboard;
pub mod error;
pub mod go_duration;
pub mod handles;
pub mod health;
pub mod host;
pub mod listener;
pub mod logging;
pub mod metrics;
pub mod observe;
pub mod proxy;
pub mod read_only;
pub mod rejections;
pub mod routes;
pub mod sampler;
pub mod server;
pub mod shutdown;
pub mod state;
pub mod store;
pub mod test_clock;
pub mod throughput;
pub mod tls;

pub use crate::app::router;
pub use crate::error::{ApiError, ServerError};
pub use crate::sampler::SummarySampler;
pub use crate::state::{AppState, ServerConfig};
