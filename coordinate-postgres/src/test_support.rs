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
    crate::db::migrations::GO_COORDINATE_MIGRATIONS
        .iter()
        .map(|(id, _)| *id)
        .collect()
}

/// The text of the claim statement (`sql::claim::CLAIM`), for tests that
/// check the plan PostgreSQL makes for it.
pub fn claim_statement() -> &'static str {
    crate::sql::claim::CLAIM.text
}

/// The settings (name, value) every pooled session of the library makes
/// by default, for tests and benchmarks that run SQL of their own as the
/// library's sessions would.
pub fn session_settings() -> &'static [(&'static str, &'static str)] {
    &crate::db::session::SETTINGS
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

/// Every `tracing` event and span of the process (or thread) it is
/// installed for, each as one line of text: `LEVEL target: field=value…`
/// for events, `span NAME field=value…` for spans. A minimal subscriber
/// for tests that check what this crate logs (that a password never
/// shows, say), without a subscriber crate. Clones share the lines.
#[derive(Clone, Default)]
pub struct CapturedLogs {
    lines: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    spans: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl CapturedLogs {
    /// An empty capture; install it with
    /// `tracing::subscriber::set_global_default` or `with_default`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every line captured so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn push(&self, line: String) {
        self.lines
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(line);
    }
}

/// Writes fields as ` name=value`.
struct Fields(String);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!(" {}={value:?}", field.name()));
    }

    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.push_str(&format!(" {}={value}", field.name()));
    }
}

impl tracing::Subscriber for CapturedLogs {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut fields = Fields(format!("span {}", span.metadata().name()));
        span.record(&mut fields);
        self.push(fields.0);
        // Ids must not be 0.
        let id = self
            .spans
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        tracing::span::Id::from_u64(id)
    }

    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        let mut fields = Fields("span record".into());
        values.record(&mut fields);
        self.push(fields.0);
    }

    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}

    fn event(&self, event: &tracing::Event<'_>) {
        let metadata = event.metadata();
        let mut fields = Fields(format!("{} {}:", metadata.level(), metadata.target()));
        event.record(&mut fields);
        self.push(fields.0);
    }

    fn enter(&self, _: &tracing::span::Id) {}

    fn exit(&self, _: &tracing::span::Id) {}
}
