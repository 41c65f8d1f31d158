//! Connecting: the builder's settings, and what `build` does with them.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use coordinate_api::backend::random::SchedulerRng;
use coordinate_api::data::DEFAULT_MAX_DATA_BYTES;
use coordinate_api::{Clock, Error, Result, SystemClock};
use diesel::r2d2::{ConnectionManager, Pool};

use crate::coordinate::PostgresCoordinate;
use crate::db::connection::ConnInfo;
use crate::db::connection::{establish, DEFAULT_CONNECTION_TIMEOUT};
use crate::db::error::connect;
use crate::db::listener::{Listener, Listening};
use crate::db::migrations::{prepare_schema, Migrations};
use crate::db::pool_log::{PoolEvents, PoolHealth};
use crate::db::session::SessionSettings;
use crate::db::shared::{Shared, DEFAULT_POOL_SIZE};

impl PostgresCoordinate {
    /// Connects with the system clock and default pool settings, applying
    /// any pending migrations (the builder can check or skip them instead).
    ///
    /// Errors: [`Error::Backend`](coordinate_api::Error::Backend) holding a
    /// [`ConnectError`](crate::ConnectError) when the
    /// string is invalid or the server cannot be reached or refuses us, or
    /// the migration error.
    pub fn new(conn: &str) -> Result<Self> {
        Self::builder(conn).build()
    }

    /// Connects like [`PostgresCoordinate::new`], with the given clock.
    pub fn new_with_clock(conn: &str, clock: Arc<dyn Clock>) -> Result<Self> {
        Self::builder(conn).clock(clock).build()
    }

    /// Starts configuring a connection to `conn`.
    pub fn builder(conn: &str) -> PostgresCoordinateBuilder {
        PostgresCoordinateBuilder::new(conn)
    }
}

/// Settings for [`PostgresCoordinate`]; made by
/// [`PostgresCoordinate::builder`].
pub struct PostgresCoordinateBuilder {
    conn: String,
    clock: Arc<dyn Clock>,
    pool_size: u32,
    connection_timeout: Duration,
    max_data_bytes: usize,
    prune_share: f64,
    avoid_sequential_scans: bool,
    scheduler_seed: Option<u64>,
    listener_conn: Option<String>,
    notifications: bool,
    transaction_pooling: bool,
    migrations: Migrations,
}

impl PostgresCoordinateBuilder {
    /// The defaults, for `conn`.
    pub(crate) fn new(conn: &str) -> Self {
        PostgresCoordinateBuilder {
            conn: conn.to_owned(),
            clock: Arc::new(SystemClock),
            pool_size: DEFAULT_POOL_SIZE,
            connection_timeout: DEFAULT_CONNECTION_TIMEOUT,
            max_data_bytes: DEFAULT_MAX_DATA_BYTES,
            prune_share: crate::handle::prune::DEFAULT_PRUNE_SHARE,
            avoid_sequential_scans: true,
            scheduler_seed: None,
            listener_conn: None,
            notifications: true,
            transaction_pooling: false,
            migrations: Migrations::Apply,
        }
    }

    /// The clock every timestamp comes from (default: the system clock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Most connections open at once (default [`DEFAULT_POOL_SIZE`]).
    /// Connections are opened when first needed.
    pub fn pool_size(mut self, size: u32) -> Self {
        self.pool_size = size;
        self
    }

    /// How long to wait for a connection, both for the server to answer and
    /// for a free pool slot (default [`DEFAULT_CONNECTION_TIMEOUT`]).
    pub fn connection_timeout(mut self, timeout: Duration) -> Self {
        self.connection_timeout = timeout;
        self
    }

    /// Largest CBOR encoding of one piece of data (a work spec definition,
    /// a unit's, worker's or attempt's data) that calls accept (default
    /// [`DEFAULT_MAX_DATA_BYTES`](coordinate_api::data::DEFAULT_MAX_DATA_BYTES));
    /// larger data gets [`Error::InvalidInput`] and changes nothing.
    pub fn max_data_bytes(mut self, max_bytes: usize) -> Self {
        self.max_data_bytes = max_bytes;
        self
    }

    /// The share of one connection's time that `Namespace::prune` may keep
    /// busy (default [`DEFAULT_PRUNE_SHARE`](crate::DEFAULT_PRUNE_SHARE)):
    /// after each batch it pauses so that its batches take at most this
    /// share of the call's time, leaving the server to the workers' claims
    /// (deletes write WAL and dirty pages that claims then wait on). `1.0`
    /// prunes flat out; must be above 0 and at most 1.
    pub fn prune_share(mut self, share: f64) -> Self {
        self.prune_share = share;
        self
    }

    /// Whether each pooled session sets `enable_seqscan = off` (default
    /// true), so that statements prepared while the tables were small keep
    /// using indexes as they grow. Turn it off behind a pooler in
    /// transaction mode (PgBouncer), where a session setting would not stay
    /// with our sessions and would reach other clients'.
    pub fn avoid_sequential_scans(mut self, avoid: bool) -> Self {
        self.avoid_sequential_scans = avoid;
        self
    }

    /// Chooses among work specs with a generator started from `seed`
    /// instead of the thread's (the default), so that a test whose draws
    /// went wrong can be run again with the same draws. Draws repeat only
    /// when claims come in the same order, as in a single-threaded test.
    pub fn scheduler_seed(mut self, seed: u64) -> Self {
        self.scheduler_seed = Some(seed);
        self
    }

    /// A connection string for the one connection that listens for
    /// notifications (default: the pool's). Give the server directly when
    /// the pool goes through a pooler in transaction mode, where `LISTEN`
    /// does not work.
    pub fn listener_url(mut self, conn: &str) -> Self {
        self.listener_conn = Some(conn.to_owned());
        self
    }

    /// Whether the connection string reaches the server through a proxy
    /// that hands out server connections per transaction (default false):
    /// PgBouncer before 1.21 in `pool_mode = transaction`, or a newer one
    /// without `max_prepared_statements`. Such a proxy mixes the sessions
    /// of many clients on one server connection, so with this set:
    ///
    /// - no statement is prepared under a name: Diesel's statement cache
    ///   is off, and each statement goes out with its values as one
    ///   unnamed statement, parsed and planned every time (some server CPU
    ///   per statement);
    /// - no session setting is made: `enable_seqscan` is left alone
    ///   whatever [`avoid_sequential_scans`](Self::avoid_sequential_scans)
    ///   says (the generic plans it guards against belong to named
    ///   statements), and so is `jit`, which direct sessions turn off:
    ///   set `jit = off` for the role or database the pooler logs in as
    ///   (`ALTER ROLE … SET jit = off`), or a claim of 100 units can spend
    ///   5-40 ms compiling itself;
    /// - `wait_for_work` listens on [`listener_url`](Self::listener_url),
    ///   which should then name the server directly; without one it does
    ///   not listen at all (`LISTEN` is session state too) and answers
    ///   [`Wakeup::Polling`](coordinate_api::Wakeup::Polling) after
    ///   sleeping its timeout, and says so once in a `tracing` warning.
    ///
    /// Advisory locks are transaction-level and migrations use unnamed
    /// statements either way, so nothing else changes.
    pub fn transaction_pooling(mut self, pooled: bool) -> Self {
        self.transaction_pooling = pooled;
        self
    }

    /// Whether `wait_for_work` listens for notifications (default true).
    /// Off, every wait sleeps its timeout and answers
    /// [`Wakeup::Polling`](coordinate_api::Wakeup::Polling).
    pub fn notifications(mut self, listen: bool) -> Self {
        self.notifications = listen;
        self
    }

    /// What connecting does about the schema (default
    /// [`Migrations::Apply`]). A fleet of workers, or a role that may not
    /// change the schema, connects with [`Migrations::Check`] and leaves
    /// migrating to one deliberate `coordinate migrate` (or
    /// [`upgrade`](crate::upgrade)).
    pub fn migrations(mut self, migrations: Migrations) -> Self {
        self.migrations = migrations;
        self
    }

    /// Connects once to check the server and to apply, check or skip the
    /// migrations as [`migrations`](Self::migrations) says, then opens the
    /// pool's connections.
    ///
    /// Errors: [`Error::InvalidInput`] for a zero pool size, timeout or data
    /// size limit;
    /// otherwise as [`PostgresCoordinate::new`].
    pub fn build(self) -> Result<PostgresCoordinate> {
        if self.pool_size == 0 {
            return Err(Error::invalid("pool size", "must be at least 1"));
        }
        if self.connection_timeout.is_zero() {
            return Err(Error::invalid("connection timeout", "must be positive"));
        }
        if self.max_data_bytes == 0 {
            return Err(Error::invalid("max_data_bytes", "must be positive"));
        }
        if !(self.prune_share > 0.0 && self.prune_share <= 1.0) {
            return Err(Error::invalid(
                "prune_share",
                format!("{} is not above 0 and at most 1", self.prune_share),
            ));
        }
        let info = ConnInfo::parse(&self.conn, self.connection_timeout).map_err(connect)?;
        let listener = match (&self.listener_conn, self.notifications) {
            (_, false) => Listening::Off,
            (None, true) if self.transaction_pooling => Listening::Unsupported,
            (None, true) => Listening::On(info.clone()),
            (Some(conn), true) => {
                Listening::On(ConnInfo::parse(conn, self.connection_timeout).map_err(connect)?)
            }
        };
        let mut conn = establish(&info)?;
        prepare_schema(&mut conn, self.migrations)?;
        std::mem::drop(conn);

        // The pool opens all its connections now and keeps them. r2d2
        // opens missing connections on background threads that nobody
        // waits for; one still inside libpq when the process exits can
        // crash it (seen as SIGSEGV at the end of short test processes).
        let health = PoolHealth::new(info.clone());
        let pool = Pool::builder()
            .max_size(self.pool_size)
            .min_idle(None)
            .connection_timeout(self.connection_timeout)
            // Every operation ends its transaction, and a broken connection
            // is noticed by Diesel and dropped; a `SELECT 1` before every
            // checkout would only add a round trip.
            .test_on_check_out(false)
            .connection_customizer(Box::new(SessionSettings {
                avoid_sequential_scans: self.avoid_sequential_scans && !self.transaction_pooling,
                unnamed_statements: self.transaction_pooling,
            }))
            // Connections opened and failures to open them (which also
            // reach callers through `get`) go to the log, redacted.
            .event_handler(Box::new(PoolEvents(health.clone())))
            .error_handler(Box::new(PoolEvents(health.clone())))
            .build(ConnectionManager::new(info.libpq()))
            .map_err(|e| connect(info.connect_error(&e.to_string())))?;
        tracing::info!(
            connection = %info.display(),
            pool_size = self.pool_size,
            "connected to PostgreSQL"
        );
        Ok(PostgresCoordinate {
            shared: Arc::new(Shared {
                health,
                listener: Listener::new(listener, pool.clone()),
                pool,
                clock: self.clock,
                info,
                max_data_bytes: self.max_data_bytes,
                prune_share: self.prune_share,
                scheduler_rng: self
                    .scheduler_seed
                    .map_or_else(SchedulerRng::from_entropy, SchedulerRng::seeded),
            }),
        })
    }
}

impl fmt::Debug for PostgresCoordinateBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let connection = ConnInfo::parse(&self.conn, self.connection_timeout)
            .map_or_else(|_| "<not understood, hidden>".to_owned(), |i| i.display());
        let listener = self.listener_conn.as_ref().map(|conn| {
            ConnInfo::parse(conn, self.connection_timeout)
                .map_or_else(|_| "<not understood, hidden>".to_owned(), |i| i.display())
        });
        f.debug_struct("PostgresCoordinateBuilder")
            .field("connection", &connection)
            .field("pool_size", &self.pool_size)
            .field("connection_timeout", &self.connection_timeout)
            .field("max_data_bytes", &self.max_data_bytes)
            .field("prune_share", &self.prune_share)
            .field("avoid_sequential_scans", &self.avoid_sequential_scans)
            .field("scheduler_seed", &self.scheduler_seed)
            .field("listener_url", &listener)
            .field("notifications", &self.notifications)
            .field("transaction_pooling", &self.transaction_pooling)
            .field("migrations", &self.migrations)
            .field("clock", &self.clock)
            .finish()
    }
}
