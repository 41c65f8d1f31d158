//! `WorkSpec::add_work_units`: many units in few statements.
//!
//! One REPEATABLE READ transaction writes the whole batch with multi-row
//! `INSERT … ON CONFLICT (work_spec_id, name) DO UPDATE` statements (see
//! [`upsert_units`]), so a batch is all or nothing, and a unit that already
//! exists gets exactly what `add_work_unit` would give it: new data and
//! meta, no active attempt.

use std::collections::BTreeMap;

use coordinate_api::validate::{validate_name, validate_priority};
use coordinate_api::{NewWorkUnit, Result};

use crate::transaction::{with_retry, Isolation, Subject};
use crate::work_spec::PgWorkSpec;
use crate::work_unit::upsert_units;

/// Units per statement: large enough that round trips stop mattering,
/// small enough to keep each statement's parameters and memory modest.
const CHUNK: usize = 5_000;

impl PgWorkSpec {
    /// Adds or replaces `units`, the later entry winning for a repeated
    /// name; returns the number of distinct names written.
    pub(crate) fn put_work_units(&self, units: Vec<NewWorkUnit>) -> Result<usize> {
        for unit in &units {
            validate_name("work unit name", &unit.name)?;
            validate_priority("priority", unit.meta.priority)?;
        }
        // One statement may not touch a row twice (ON CONFLICT would fail),
        // so repeated names collapse to their last entry first.
        let mut last: BTreeMap<String, NewWorkUnit> = BTreeMap::new();
        for unit in units {
            last.insert(unit.name.clone(), unit);
        }
        let units: Vec<NewWorkUnit> = last.into_values().collect();
        if units.is_empty() {
            // Still report a deleted spec, as add_work_unit would.
            return with_retry(self, Isolation::SingleStatement, |conn| {
                if self.exists(conn)? {
                    Ok(0)
                } else {
                    Err(self.gone().into())
                }
            });
        }
        // A foreign key violation (the spec is gone) maps to Error::Gone.
        with_retry(self, Isolation::RepeatableRead, |conn| {
            for chunk in units.chunks(CHUNK) {
                upsert_units(conn, self.id, chunk, self.shared().max_data_bytes)?;
            }
            Ok(units.len())
        })
    }
}
