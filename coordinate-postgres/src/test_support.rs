//! Finding the test database, for this crate's own tests: compiled for
//! unit tests and with the `test-support` feature, which the crate's
//! dev-dependency on itself switches on for `tests/`, so it stays out of
//! the published API.

/// The connection string of the test database: `DATABASE_URL`, or the
/// empty string (libpq's environment) when only `PGHOST` is set.
///
/// # Panics
///
/// When neither is set: tests must not pass silently without a database.
/// `cargo xtask conformance` starts a throwaway server and sets
/// `DATABASE_URL`.
pub fn database_url() -> String {
    if let Ok(url) = std::env::var("DATABASE_URL") {
        return url;
    }
    if std::env::var_os("PGHOST").is_some() {
        return String::new();
    }
    panic!(
        "no PostgreSQL configured for the tests: set DATABASE_URL (or PGHOST), \
         or run `cargo xtask conformance`, which starts a throwaway server"
    );
}

/// The ids under which go-coordinate's sql-migrate records its fifteen
/// migrations in `gorp_migrations`, oldest first: what a database this
/// crate migrated must list for go-coordinate to accept it.
pub fn go_coordinate_migration_ids() -> Vec<&'static str> {
    crate::migrations::GO_COORDINATE_MIGRATIONS
        .iter()
        .map(|(id, _)| *id)
        .collect()
}

/// Set (to anything) by a test run whose `DATABASE_URL` goes through a
/// transaction-pooling proxy: [`builder`] then sets
/// [`transaction_pooling`](crate::PostgresCoordinateBuilder::transaction_pooling).
pub const TRANSACTION_POOLING_VAR: &str = "COORDINATE_TEST_TRANSACTION_POOLING";
/// A direct connection string for the listener, in such a run.
pub const LISTENER_URL_VAR: &str = "COORDINATE_TEST_LISTENER_URL";

/// A builder for `conn` with the settings the test run asks for through
/// [`TRANSACTION_POOLING_VAR`] and [`LISTENER_URL_VAR`]; `cargo xtask
/// conformance` sets both in its PgBouncer lane, so the same suite runs
/// directly and through PgBouncer.
pub fn builder(conn: &str) -> crate::PostgresCoordinateBuilder {
    let mut builder = crate::PostgresCoordinate::builder(conn);
    if std::env::var_os(TRANSACTION_POOLING_VAR).is_some() {
        builder = builder.transaction_pooling(true);
    }
    if let Ok(url) = std::env::var(LISTENER_URL_VAR) {
        builder = builder.listener_url(&url);
    }
    builder
}
