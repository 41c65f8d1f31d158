//! Adding and completing work inside the application's own transaction,
//! so that it commits or rolls back together with the application's data.
//!
//! - **Enqueue with the data.** [`add_work_units`] writes units on the
//!   caller's connection: if the transaction that created the order rolls
//!   back, its email unit was never there; if it commits, both are. The
//!   wake-up of waiting workers is a `NOTIFY` in the same transaction,
//!   which PostgreSQL delivers only at its commit.
//! - **Complete with the effect.** [`complete_attempts`] ends attempts on
//!   the caller's connection, so a handler's own writes and its unit's
//!   outcome commit together: a crash between the two cannot make the
//!   unit run twice.
//!
//! ```no_run
//! use coordinate_api::{Coordinate, Data, NewWorkUnit, WorkUnitMeta};
//! use coordinate_postgres::diesel::{self, Connection, PgConnection, RunQueryDsl};
//! use coordinate_postgres::{in_transaction, PostgresCoordinate};
//!
//! fn main() -> anyhow::Result<()> {
//!     let url = std::env::var("DATABASE_URL")?;
//!     let coordinate = PostgresCoordinate::new(&url)?;
//!     let emails = coordinate.namespace("shop")?.work_spec("emails")?;
//!     let mut conn = PgConnection::establish(&url)?;
//!     conn.transaction::<_, anyhow::Error, _>(|conn| {
//!         diesel::sql_query("INSERT INTO orders (id) VALUES (42)").execute(conn)?;
//!         let unit = NewWorkUnit {
//!             name: "order-42".into(),
//!             data: Data::new(),
//!             meta: WorkUnitMeta::default(),
//!         };
//!         in_transaction::add_work_units(conn, emails.as_ref(), vec![unit])?;
//!         Ok(())
//!     })?;
//!     Ok(())
//! }
//! ```
//!
//! Nothing here commits, rolls back or retries: the transaction is the
//! caller's. A call on a connection with no transaction open is refused
//! ([`Error::InvalidInput`](coordinate_api::Error::InvalidInput)): its
//! statements would each commit alone. A serialization failure or another
//! concurrent change comes back as a transient
//! [`BackendErrorKind::Conflict`](coordinate_api::BackendErrorKind::Conflict)
//! (`is_transient()`): roll back and run the transaction again. Any error
//! from here leaves the transaction aborted in PostgreSQL, so let it roll
//! back (returning the error from `conn.transaction` does).
//!
//! The statements are the ones the library runs in its own transactions
//! and are correct at every isolation level the caller picks: READ
//! COMMITTED (PostgreSQL's default), REPEATABLE READ and SERIALIZABLE.
//! They lock the attempts and units they change before deciding, so at
//! READ COMMITTED they act on the latest committed rows, and at the
//! stricter levels a concurrent change to those rows surfaces as a
//! serialization failure rather than being overwritten.
//!
//! The connection must be a `diesel` [`PgConnection`] of the version this
//! crate uses, re-exported as [`crate::diesel`]; with a `diesel` of
//! another version the types do not match. Handles ([`WorkSpec`],
//! [`Namespace`], attempts) must come from a [`PostgresCoordinate`](crate::PostgresCoordinate)
//! on the same database; others are refused with
//! [`Error::WrongBackend`](coordinate_api::Error::WrongBackend). The
//! memory backend has no transactions and no such calls: test code that
//! uses them against PostgreSQL (the throwaway server `cargo xtask
//! conformance` starts serves the crate's own tests).

use std::any::Any;

use coordinate_api::{downcast, Completion, Namespace, NewWorkUnit, Result, WorkSpec};
use diesel::pg::PgConnection;

use crate::handle::namespace::PgNamespace;
use crate::handle::work_spec::PgWorkSpec;

/// Adds `units` to `spec` (or replaces units of the same name, as
/// [`WorkSpec::add_work_units`] does) on `conn`, inside the caller's open
/// transaction; returns how many distinct names were written. The same
/// validation (names, priorities, data size) as `add_work_units`;
/// waiting workers are woken when the transaction commits.
///
/// Errors: [`InvalidInput`](coordinate_api::Error::InvalidInput) for a bad
/// unit or no open transaction; [`Gone`](coordinate_api::Error::Gone) for a
/// deleted spec; [`WrongBackend`](coordinate_api::Error::WrongBackend);
/// [`Backend`](coordinate_api::Error::Backend), `Conflict` for a
/// concurrent change.
pub fn add_work_units(
    conn: &mut PgConnection,
    spec: &dyn WorkSpec,
    units: Vec<NewWorkUnit>,
) -> Result<usize> {
    downcast::<PgWorkSpec>(spec as &dyn Any)?.put_work_units_on(conn, units)
}

/// Ends attempts of `namespace` on `conn`, inside the caller's open
/// transaction, with the same rules as [`Namespace::complete_attempts`]:
/// one answer per completion, in order (a lost lease is
/// [`LostLease`](coordinate_api::Error::LostLease) or
/// [`NotPending`](coordinate_api::Error::NotPending) in its answer),
/// finished units chain their `output`, releases tell the runtimes that
/// held them. A caller that needs all or nothing rolls back when any
/// answer is an error.
///
/// Errors of the whole call: [`InvalidInput`](coordinate_api::Error::InvalidInput)
/// for no open transaction; [`WrongBackend`](coordinate_api::Error::WrongBackend);
/// [`Backend`](coordinate_api::Error::Backend), `Conflict` for a
/// concurrent change.
pub fn complete_attempts(
    conn: &mut PgConnection,
    namespace: &dyn Namespace,
    batch: &[Completion],
) -> Result<Vec<Result<()>>> {
    downcast::<PgNamespace>(namespace as &dyn Any)?.complete_on(conn, batch)
}

/// [`complete_attempts`] for one completion, its answer as the result, so
/// that `?` aborts the caller's transaction on a lost lease.
pub fn complete_attempt(
    conn: &mut PgConnection,
    namespace: &dyn Namespace,
    completion: Completion,
) -> Result<()> {
    complete_attempts(conn, namespace, std::slice::from_ref(&completion))?
        .pop()
        .unwrap_or(Ok(()))
}
