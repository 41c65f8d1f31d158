//! `WorkSpec::add_work_units`: many units in few statements.
//!
//! One REPEATABLE READ transaction writes the whole batch with multi-row
//! `INSERT … ON CONFLICT (work_spec_id, name) DO UPDATE` statements (see
//! [`upsert_units`]), so a batch is all or nothing, and a unit that already
//! exists gets exactly what `add_work_unit` would give it: new data and
//! meta, no active attempt.

use coordinate_api::backend::validate::validate_work_unit_batch;
use coordinate_api::{NewWorkUnit, Result};

use diesel::pg::PgConnection;

use crate::db::gone::Object;
use crate::db::transaction::{in_callers_transaction, with_retry, Isolation, TxResult};
use crate::handle::upsert::upsert_units;
use crate::handle::work_spec::PgWorkSpec;

/// Units per statement: large enough that round trips stop mattering,
/// small enough to keep each statement's parameters and memory modest.
const CHUNK: usize = 5_000;

impl PgWorkSpec {
    /// Adds or replaces `units`, the later entry winning for a repeated
    /// name; returns the number of distinct names written.
    pub(crate) fn put_work_units(&self, units: Vec<NewWorkUnit>) -> Result<usize> {
        // One statement may not touch a row twice (ON CONFLICT would fail);
        // the check leaves each name once, its last entry.
        let units = validate_work_unit_batch(units, |_| Ok(()))?;
        if units.is_empty() {
            // Still report a deleted spec, as add_work_unit would.
            return with_retry(self, Isolation::Autocommit, |conn| {
                Object::WorkSpec(self.id).ensure(conn).map(|()| 0)
            });
        }
        // A foreign key violation (the spec is gone) maps to Error::Gone.
        with_retry(self, Isolation::RepeatableRead, |conn| {
            self.write_units(conn, &units)
        })
    }

    /// `in_transaction::add_work_units`: the same checks and statements as
    /// [`PgWorkSpec::put_work_units`], run once on the caller's connection
    /// inside the caller's transaction.
    pub(crate) fn put_work_units_on(
        &self,
        conn: &mut PgConnection,
        units: Vec<NewWorkUnit>,
    ) -> Result<usize> {
        let units = validate_work_unit_batch(units, |_| Ok(()))?;
        in_callers_transaction(self, conn, |conn| {
            if units.is_empty() {
                Object::WorkSpec(self.id).ensure(conn)?;
            }
            self.write_units(conn, &units)
        })
    }

    /// Writes `units` (checked, distinct names) in chunks.
    fn write_units(&self, conn: &mut PgConnection, units: &[NewWorkUnit]) -> TxResult<usize> {
        for chunk in units.chunks(CHUNK) {
            upsert_units(conn, self.id, chunk, self.shared().max_data_bytes)?;
        }
        Ok(units.len())
    }
}
