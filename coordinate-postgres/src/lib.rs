//! The production `coordinate` backend: all state in PostgreSQL, shared by
//! any number of processes.
//!
//! ```no_run
//! use std::sync::Arc;
//! use coordinate_api::{AttemptRequest, Coordinate, Data, Value, WorkUnitMeta};
//! use coordinate_postgres::PostgresCoordinate;
//!
//! # fn main() -> coordinate_api::Result<()> {
//! // Connecting applies any pending schema migrations.
//! let coordinate: Arc<dyn Coordinate> =
//!     Arc::new(PostgresCoordinate::new("postgres://user:secret@db.example.com/coordinate")?);
//! let namespace = coordinate.namespace("crawl")?;
//!
//! let mut definition = Data::new();
//! definition.insert("name".into(), Value::Text("fetch".into()));
//! let spec = namespace.set_work_spec(definition)?;
//! spec.add_work_unit("https://example.com/", Data::new(), WorkUnitMeta::default())?;
//!
//! let worker = namespace.worker("worker-1")?;
//! for attempt in worker.request_attempts(&AttemptRequest::default())? {
//!     // ... do the work ...
//!     attempt.finish(None)?;
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Connection strings
//!
//! [`PostgresCoordinate::new`] accepts
//!
//! - a URL: `postgres://user:pass@host:5432/db?sslmode=require` (or
//!   `postgresql://…`);
//! - the same without its scheme: `//user:pass@host/db`;
//! - `postgres:` followed by libpq `key=value` pairs:
//!   `postgres:host=db.example.com user=me dbname=coordinate`;
//! - the empty string.
//!
//! Whatever the string leaves out comes from libpq's environment variables
//! (`PGHOST`, `PGPORT`, `PGDATABASE`, `PGUSER`, `PGPASSWORD`, `PGSSLMODE`,
//! …) and defaults. Connection failures are [`coordinate_api::Error::Backend`]
//! errors whose source is a [`ConnectError`]; its [`ConnectErrorKind`] tells
//! a bad string, an unreachable server, a rejected password, a missing
//! database and a failed TLS handshake or certificate check apart. The
//! password never appears in any error or in `Debug` output.
//!
//! # Errors
//!
//! Storage failures carry a [`coordinate_api::BackendErrorKind`]:
//! `Unavailable` for an unreachable server or a lost connection,
//! `PoolExhausted` when every pooled connection stayed busy for the
//! connection timeout, `Conflict` when serialization failures or deadlocks
//! outlasted the retries, `Schema` when a migration failed, `Timeout` when
//! the server's `statement_timeout` (or `lock_timeout`) cancelled a
//! statement, and `Other` for the rest (a rejected password, a missing
//! database and a failed certificate check among them: they need a person).
//! Diesel does not pass on PostgreSQL's SQLSTATE for deadlocks (40P01) and
//! cancelled statements (57014), so those two are recognised by the
//! server's English message: on a server whose `lc_messages` is another
//! language, a deadlock is not retried and both come out as `Other`. TLS follows libpq's
//! `sslmode`, `sslrootcert` and related parameters (or `PGSSLMODE`, …).
//!
//! # Schema
//!
//! The tables are go-coordinate's (`namespace`, `work_spec`, `work_unit`,
//! `worker`, `attempt` and the `attempt_status` enum), created by embedded
//! Diesel migrations that mirror go-coordinate's fifteen, plus indexes for
//! the claim path. A database go-coordinate already migrated is adopted as
//! it is.
//! [`PostgresCoordinateBuilder::migrations`] chooses whether connecting
//! applies pending migrations (the default), only checks that none are
//! pending ([`Migrations::Check`], for roles that may not change the
//! schema and for large fleets), or skips both. [`upgrade`] and [`drop`] run the migrations without connecting a
//! coordinate.
//!
//! # Concurrency
//!
//! Every operation is one transaction, at REPEATABLE READ, retried on
//! serialization failures and deadlocks; handing out work runs at READ
//! COMMITTED with row locks (`FOR UPDATE SKIP LOCKED`), so concurrent
//! workers never receive the same unit and never wait for each other. All
//! times come from the coordinate's [`coordinate_api::Clock`].
//!
//! # Features
//!
//! - `cli` (off by default): the `coordinate` operator command
//!   (`cargo install coordinate-postgres --features cli`; the README's
//!   "Operating it" section lists its verbs). It adds `clap`, `anyhow`,
//!   `indicatif`, `serde_json` and `tracing-subscriber` to the build; the
//!   library does not use them.
//! - `test-support` (off by default): the `test_support` module, which
//!   finds the test database (`DATABASE_URL`, or libpq's environment when
//!   only `PGHOST` is set, and a panic when neither is). This crate's own
//!   tests switch it on through a dev-dependency on the crate itself; it is
//!   not part of the published API.
#![warn(missing_docs)]

// The layers, bottom first; a module imports only from its own layer or
// those below it (xtask's tidy test checks this):
// `schema` and `sql` (tables and statements) < `db` (connections, pool,
// transactions, errors, migrations, listener) < `claim` (handing out work,
// in ids) < `handle` (one handle per table, and calls over them) <
// `builder`, `coordinate` (the entry point) and `in_transaction` (calls
// on the caller's own connection).
mod builder;
mod claim;
mod coordinate;
mod db;
mod handle;
pub mod in_transaction;
/// Diesel's view of the tables: `diesel print-schema` output for a database
/// migrated with `migrations/` (see `diesel.toml`), checked in unchanged.
mod schema;
mod sql;
#[cfg(any(test, feature = "test-support"))]
pub mod test_support;
#[cfg(feature = "runtime")]
mod transactional_handler;

pub use crate::builder::PostgresCoordinateBuilder;
pub use crate::coordinate::{PoolState, PostgresCoordinate};
pub use crate::db::connect_error::{ConnectError, ConnectErrorKind};
pub use crate::db::connection::DEFAULT_CONNECTION_TIMEOUT;
pub use crate::db::migrations::{drop, upgrade, Migrations};
pub use crate::db::shared::DEFAULT_POOL_SIZE;
pub use crate::handle::prune::DEFAULT_PRUNE_SHARE;
#[cfg(feature = "runtime")]
pub use crate::transactional_handler::TransactionalHandler;
/// The `diesel` this crate is built with: [`in_transaction`]'s calls take
/// its `PgConnection`, so an application's `diesel` must be this version.
pub use diesel;

// The README's code example runs as a doc test of this crate, so it cannot
// rot (the memory backend it uses is a dev-dependency here).
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeExample;
