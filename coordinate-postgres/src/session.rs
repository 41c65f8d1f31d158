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
//! Behind a pooler in transaction mode (PgBouncer), session settings do not
//! stay with our sessions and would reach other clients' sessions; there
//! the builder's `avoid_sequential_scans(false)` leaves them alone.

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{CustomizeConnection, Error};

/// The pool's connection customizer.
#[derive(Debug)]
pub(crate) struct SessionSettings {
    /// Whether to set `enable_seqscan = off`.
    pub(crate) avoid_sequential_scans: bool,
}

impl CustomizeConnection<PgConnection, Error> for SessionSettings {
    fn on_acquire(&self, conn: &mut PgConnection) -> Result<(), Error> {
        if self.avoid_sequential_scans {
            conn.batch_execute("SET enable_seqscan = off")
                .map_err(Error::QueryError)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::database_url;
    use crate::PostgresCoordinate;
    use diesel::sql_types::Text;
    use diesel::RunQueryDsl;

    fn seqscan_setting(avoid: bool) -> String {
        let coordinate = PostgresCoordinate::builder(&database_url())
            .pool_size(1)
            .avoid_sequential_scans(avoid)
            .build()
            .expect("connect");
        let mut conn = coordinate.shared.connection().expect("pooled connection");
        diesel::select(diesel::dsl::sql::<Text>(
            "current_setting('enable_seqscan')",
        ))
        .get_result(&mut *conn)
        .expect("read the setting")
    }

    #[test]
    fn pooled_sessions_avoid_sequential_scans_unless_told_not_to() {
        assert_eq!(seqscan_setting(true), "off");
        assert_eq!(seqscan_setting(false), "on");
    }
}
