//! Settings each pooled session gets when it opens.
//!
//! `enable_seqscan = off`, unless the builder turns it off: our statements
//! are prepared once per session, and PostgreSQL soon settles on one plan
//! for each, made with the table sizes of that moment. A plan made while a
//! table was one page long scans it whole, and keeps doing so as the table
//! grows to millions of rows, until an ANALYZE happens to invalidate it
//! (the bench measured finishes slowing from 0.1 ms to 1-2 ms that way).
//! Every statement of ours has an index path, so the setting only rules
//! out plans that do not survive growth. The whole-store summary, which
//! reads everything, turns sequential scans back on for its own
//! transaction.
//!
//! `jit = off`, always: PostgreSQL compiles a statement whose estimated
//! cost passes `jit_above_cost`, and compiles it again at every execution.
//! A claim of 100 units passed it (and every plan does with
//! `enable_seqscan` off, which prices a sequential scan at 10^10), and the
//! compiling took 5-40 ms of a claim that runs in 7 ms without it; the
//! worker runtime drained units about twice as fast with it off. Our
//! statements are short reads and writes by index, which JIT never pays
//! for.
//!
//! Behind a pooler in transaction mode (PgBouncer), session settings do not
//! stay with our sessions and would reach other clients' sessions, and
//! named prepared statements collide with other clients' or go missing;
//! there the builder's `transaction_pooling(true)` sets nothing and turns
//! Diesel's statement cache off, so every statement is sent unnamed, with
//! its values, in one round trip.

use diesel::connection::{CacheSize, Connection, SimpleConnection};
use diesel::pg::PgConnection;
use diesel::r2d2::{CustomizeConnection, Error};

/// The settings every pooled session makes (name, value), in order; the
/// last one is left out when the builder allows sequential scans. The
/// bench's raw-SQL reference and the plan tests set the same ones
/// (`test_support::session_settings`), so that they measure and check
/// what the library's sessions see.
pub(crate) const SETTINGS: [(&str, &str); 2] = [("jit", "off"), ("enable_seqscan", "off")];

/// The pool's connection customizer.
#[derive(Debug)]
pub(crate) struct SessionSettings {
    /// Whether to set `enable_seqscan = off`.
    pub(crate) avoid_sequential_scans: bool,
    /// Whether to prepare no statement under a name (Diesel's cache off)
    /// and set nothing in the session: behind a transaction pooler.
    pub(crate) unnamed_statements: bool,
}

impl CustomizeConnection<PgConnection, Error> for SessionSettings {
    fn on_acquire(&self, conn: &mut PgConnection) -> Result<(), Error> {
        if self.unnamed_statements {
            conn.set_prepared_statement_cache_size(CacheSize::Disabled);
            return Ok(());
        }
        let count = if self.avoid_sequential_scans { 2 } else { 1 };
        // Our own constant names and values, never a caller's.
        let settings: Vec<String> = SETTINGS[..count]
            .iter()
            .map(|(name, value)| format!("SET {name} = {value}"))
            .collect();
        conn.batch_execute(&settings.join("; "))
            .map_err(Error::QueryError)
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::database_url;
    use crate::{PostgresCoordinate, PostgresCoordinateBuilder};
    use coordinate_api::Coordinate;
    use diesel::sql_types::{BigInt, Text};
    use diesel::RunQueryDsl;

    /// `enable_seqscan`, `jit` and the number of named prepared statements
    /// in the one pooled session of a coordinate built so, after it did
    /// some work.
    fn session_state(builder: PostgresCoordinateBuilder) -> (String, String, i64) {
        let coordinate = builder.pool_size(1).build().expect("connect");
        coordinate.namespaces().expect("list namespaces");
        let mut conn = coordinate.shared.connection().expect("pooled connection");
        let seqscan = diesel::select(diesel::dsl::sql::<Text>(
            "current_setting('enable_seqscan')",
        ))
        .get_result(&mut *conn)
        .expect("read the setting");
        let jit = diesel::select(diesel::dsl::sql::<Text>("current_setting('jit')"))
            .get_result(&mut *conn)
            .expect("read the setting");
        let named = diesel::select(diesel::dsl::sql::<BigInt>(
            "(SELECT count(*) FROM pg_prepared_statements)",
        ))
        .get_result(&mut *conn)
        .expect("count prepared statements");
        (seqscan, jit, named)
    }

    #[test]
    fn pooled_sessions_turn_jit_off_and_avoid_sequential_scans_unless_told_not_to() {
        let builder = || PostgresCoordinate::builder(&database_url());
        let (seqscan, jit, named) = session_state(builder());
        assert_eq!((seqscan.as_str(), jit.as_str()), ("off", "off"));
        assert!(named > 0, "Diesel's statement cache names statements");
        let (seqscan, jit, _) = session_state(builder().avoid_sequential_scans(false));
        assert_eq!((seqscan.as_str(), jit.as_str()), ("on", "off"));
    }

    #[test]
    fn transaction_pooling_sets_nothing_and_names_no_statement() {
        let builder = PostgresCoordinate::builder(&database_url())
            .avoid_sequential_scans(true)
            .transaction_pooling(true);
        // The server's own default for jit (on, unless configured).
        let (seqscan, _, named) = session_state(builder);
        assert_eq!((seqscan.as_str(), named), ("on", 0));
    }
}
