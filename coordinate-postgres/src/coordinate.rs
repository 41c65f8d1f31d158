//! The entry point: a connected coordinate and the `Coordinate` trait.
//! Connecting is the builder's job (`builder.rs`, which also holds
//! `PostgresCoordinate::new`).

use std::fmt;
use std::sync::Arc;

use coordinate_api::backend::validate::validate_name;
use coordinate_api::{Coordinate, Namespace, Result, Summary};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use crate::db::error::read_only_server;
use crate::db::shared::Shared;
use crate::db::transaction::{with_retry, Isolation, TxError};
use crate::handle::namespace::PgNamespace;
use crate::handle::summary::{summarize, Scope};
use crate::schema::namespace;
use crate::sql::unit::{NAMESPACES, SERVER_READ_ONLY};
use crate::sql::IdName;

/// The answer of [`SERVER_READ_ONLY`].
#[derive(QueryableByName)]
struct ReadOnly {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    read_only: bool,
}

/// A coordinate stored in PostgreSQL.
///
/// Cloning is cheap and shares the connection pool; so do all handles made
/// from it. See the crate documentation for connection strings.
#[derive(Clone)]
pub struct PostgresCoordinate {
    pub(crate) shared: Arc<Shared>,
}

/// How the connection pool stands, for metrics and health pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolState {
    /// Connections open now, busy or idle.
    pub connections: u32,
    /// Of those, the ones waiting for a caller.
    pub idle_connections: u32,
    /// Most connections the pool opens ([`PostgresCoordinateBuilder::pool_size`](crate::PostgresCoordinateBuilder::pool_size)).
    pub max_size: u32,
}

impl PostgresCoordinate {
    /// How the connection pool stands now; reading it touches no
    /// connection.
    pub fn pool_state(&self) -> PoolState {
        let state = self.shared.pool.state();
        PoolState {
            connections: state.connections,
            idle_connections: state.idle_connections,
            max_size: self.shared.pool.max_size(),
        }
    }
}

impl fmt::Debug for PostgresCoordinate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresCoordinate")
            .field("connection", &self.shared.info.display())
            .field("pool_size", &self.shared.pool.max_size())
            .field("clock", &self.shared.clock)
            .finish()
    }
}

impl Coordinate for PostgresCoordinate {
    fn namespace(&self, name: &str) -> Result<Arc<dyn Namespace>> {
        validate_name("namespace name", name)?;
        let id = with_retry(&*self.shared, Isolation::RepeatableRead, |conn| {
            let existing = namespace::table
                .filter(namespace::name.eq(name))
                .select(namespace::id)
                .first::<i32>(conn)
                .optional()?;
            if let Some(id) = existing {
                return Ok(id);
            }
            // A concurrent insert of the same name makes this fail with a
            // serialization error (retried), so nothing here means a
            // concurrent delete: try again.
            diesel::insert_into(namespace::table)
                .values(namespace::name.eq(name))
                .on_conflict_do_nothing()
                .returning(namespace::id)
                .get_result::<i32>(conn)
                .optional()?
                .ok_or(TxError::Retry)
        })?;
        Ok(Arc::new(PgNamespace::new(
            self.shared.clone(),
            id,
            name.to_owned(),
        )))
    }

    fn namespaces(&self) -> Result<Vec<Arc<dyn Namespace>>> {
        let rows: Vec<IdName> = with_retry(&*self.shared, Isolation::Autocommit, |conn| {
            Ok(NAMESPACES.prepare().load(conn)?)
        })?;
        Ok(rows
            .into_iter()
            .map(|row| {
                Arc::new(PgNamespace::new(self.shared.clone(), row.id, row.name))
                    as Arc<dyn Namespace>
            })
            .collect())
    }

    fn ready(&self) -> Result<()> {
        with_retry(&*self.shared, Isolation::Autocommit, |conn| {
            let server: ReadOnly = SERVER_READ_ONLY.prepare().get_result(conn)?;
            // As an error, the connection is dropped from the pool with it.
            match server.read_only {
                true => Err(TxError::Api(read_only_server())),
                false => Ok(()),
            }
        })
    }

    fn summarize(&self) -> Result<Summary> {
        let now = self.shared.now();
        with_retry(&*self.shared, Isolation::RepeatableRead, |conn| {
            // Reads every unit: a sequential scan is the right plan here
            // (see `db/session.rs`).
            conn.batch_execute("SET LOCAL enable_seqscan = on")?;
            summarize(conn, now, Scope::Everything)
        })
    }
}
