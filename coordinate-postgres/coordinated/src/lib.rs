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
//! The stack: axum on tokio (a multi-threaded runtime with two workers),
//! every store call on tokio's blocking pool behind a bounded queue
//! ([`store`]), rustls with the `ring` provider for TLS ([`tls`]).
#![warn(missing_docs)]

pub mod app;
pub mod auth;
pub mod backend;
pub mod cli;
pub mod error;
pub mod go_duration;
pub mod health;
pub mod host;
pub mod listener;
pub mod logging;
pub mod metrics;
pub mod observe;
pub mod proxy;
pub mod rejections;
pub mod routes;
pub mod sampler;
pub mod server;
pub mod shutdown;
pub mod state;
pub mod store;
pub mod test_clock;
pub mod tls;

pub use crate::app::router;
pub use crate::error::{ApiError, ServerError};
pub use crate::sampler::SummarySampler;
pub use crate::state::{AppState, ServerConfig};
