//! What every handle made from one coordinate shares: the pool, the clock,
//! the listener and the settings.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use coordinate_api::backend::random::SchedulerRng;
use coordinate_api::data::encode_within;
use coordinate_api::{Clock, Data, Result};
use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, Pool, PooledConnection};

use crate::db::connect_error::{ConnectError, ConnectErrorKind};
use crate::db::connection::ConnInfo;
use crate::db::error::connect;
use crate::db::listener::Listener;
use crate::db::pool_log::PoolHealth;

/// Connections a coordinate keeps at most, unless the builder says otherwise.
pub const DEFAULT_POOL_SIZE: u32 = 10;

/// The pool every handle of one coordinate borrows connections from.
pub(crate) type PgPool = Pool<ConnectionManager<PgConnection>>;

/// What every handle made from one coordinate shares: the pool and clock.
pub(crate) struct Shared {
    pub(crate) pool: PgPool,
    pub(crate) clock: Arc<dyn Clock>,
    /// The connection string, kept to scrub its secrets out of errors.
    pub(crate) info: ConnInfo,
    /// Largest encoded size of data a caller may hand in.
    pub(crate) max_data_bytes: usize,
    /// The share of a connection's time pruning may take (see the
    /// builder's `prune_share`).
    pub(crate) prune_share: f64,
    /// Where the scheduler's draws come from.
    pub(crate) scheduler_rng: SchedulerRng,
    /// Wakes `wait_for_work` callers when units become available.
    pub(crate) listener: Listener,
    /// What the log hears of the pool's connections.
    pub(crate) health: Arc<PoolHealth>,
}

impl Shared {
    /// Encodes data a caller hands in, refusing it when nested too deep or
    /// over the size limit.
    pub(crate) fn encode(&self, data: &Data) -> Result<Vec<u8>> {
        encode_within(data, self.max_data_bytes)
    }

    /// A connection from the pool.
    pub(crate) fn connection(&self) -> Result<PooledConnection<ConnectionManager<PgConnection>>> {
        self.pool.get().map_err(|e| {
            let message = e.to_string();
            // r2d2 appends the last connection failure when there was one;
            // its bare message means every pooled connection was busy.
            if message == "timed out waiting for connection" {
                self.health
                    .exhausted(self.pool.max_size(), self.pool.connection_timeout());
                connect(ConnectError::new(
                    ConnectErrorKind::PoolExhausted,
                    format!(
                        "all {} connections stayed busy for the connection timeout",
                        self.pool.max_size()
                    ),
                ))
            } else {
                connect(self.info.connect_error(&message))
            }
        })
    }

    /// The time by the coordinate's clock.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}
