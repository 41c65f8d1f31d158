//! Selecting work units with a `WorkUnitQuery`: listing them, changing
//! their priorities, deleting them.

use std::sync::Arc;

use coordinate_api::backend::validate::validate_priority;
use coordinate_api::{Result, WorkUnit, WorkUnitQuery};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bytea, Double, Integer, Nullable, Text, Timestamptz};

use crate::claim::expiry::with_expiry;
use crate::db::gone::Object;
use crate::db::listener::announce_taken;
use crate::handle::upsert::UnitRow;
use crate::handle::work_spec::PgWorkSpec;
use crate::handle::work_unit::PgWorkUnit;
use crate::sql::unit::{ADJUST_UNIT_PRIORITIES, DELETE_UNITS, SELECT_UNITS, SET_UNIT_PRIORITIES};

/// Units deleted per transaction when a deletion has no limit.
const DELETE_BATCH: i64 = 10_000;

/// A [`WorkUnitQuery`] as bind values for the selection statements in
/// `sql::unit` ([`SELECT_UNITS`] and those built on it).
struct Selection {
    names: Vec<Vec<u8>>,
    statuses: Vec<&'static str>,
    after: Option<Vec<u8>>,
    limit: Option<i64>,
}

impl Selection {
    fn new(query: &WorkUnitQuery) -> Self {
        Selection {
            names: query.names.iter().map(|n| n.as_bytes().to_vec()).collect(),
            statuses: query.statuses.iter().map(|s| s.as_str()).collect(),
            after: query.previous_name.as_ref().map(|n| n.as_bytes().to_vec()),
            limit: query.limit.map(|l| i64::try_from(l).unwrap_or(i64::MAX)),
        }
    }
}

/// Binds `$1`..`$6` of [`SELECT_UNITS`] (and the statements built on it)
/// onto a prepared statement, planned on every call: the best plan depends on which filters are set and on the limit.
macro_rules! bind_selection {
    ($query:expr, $spec:expr, $now:expr, $sel:expr) => {
        $query
            .planned_each_time()
            .bind::<Timestamptz, _>($now)
            .bind::<Integer, _>($spec)
            .bind::<Array<Bytea>, _>(&$sel.names)
            .bind::<Array<Text>, _>(&$sel.statuses)
            .bind::<Nullable<Bytea>, _>(&$sel.after)
            .bind::<Nullable<BigInt>, _>($sel.limit)
    };
}

/// Query functions of a work spec.
impl PgWorkSpec {
    /// `WorkSpec::work_units`: the selected units, in name order.
    pub(crate) fn query_work_units(&self, query: &WorkUnitQuery) -> Result<Vec<Arc<dyn WorkUnit>>> {
        let selection = Selection::new(query);
        let now = self.shared().now();
        let rows = with_expiry(self, self.namespace.id, now, |conn| {
            let rows: Vec<UnitRow> =
                bind_selection!(SELECT_UNITS.prepare(), self.id, now, selection).load(conn)?;
            Object::WorkSpec(self.id).rows_or_gone(conn, rows)
        })?;
        Ok(rows
            .into_iter()
            .map(|row| Arc::new(PgWorkUnit::new(self.clone(), row.id, &row.name)) as _)
            .collect())
    }

    /// `WorkSpec::set_work_unit_priorities` (`relative` false) and
    /// `adjust_work_unit_priorities` (`relative` true).
    pub(crate) fn change_priorities(
        &self,
        query: &WorkUnitQuery,
        value: f64,
        relative: bool,
    ) -> Result<()> {
        validate_priority("priority", value)?;
        let selection = Selection::new(query);
        let now = self.shared().now();
        with_expiry(self, self.namespace.id, now, |conn| {
            let statement = if relative {
                &ADJUST_UNIT_PRIORITIES
            } else {
                &SET_UNIT_PRIORITIES
            };
            let changed = bind_selection!(statement.prepare(), self.id, now, selection)
                .bind::<Double, _>(value)
                .execute(conn)?;
            if changed == 0 {
                Object::WorkSpec(self.id).ensure(conn)?;
            }
            Ok(())
        })
    }

    /// `WorkSpec::delete_work_units`: deletes the selected units and returns
    /// how many there were.
    pub(crate) fn delete_units(&self, query: &WorkUnitQuery) -> Result<usize> {
        let mut selection = Selection::new(query);
        // Without a limit, delete in batches (each its own transaction) so a
        // huge deletion neither holds locks for long nor restarts from
        // scratch on a conflict; each batch continues after the last name.
        let batched = selection.limit.is_none();
        if batched {
            selection.limit = Some(DELETE_BATCH);
        }
        let mut total = 0;
        loop {
            let now = self.shared().now();
            let names = with_expiry(self, self.namespace.id, now, |conn| {
                let rows: Vec<UnitRow> =
                    bind_selection!(DELETE_UNITS.prepare(), self.id, now, selection).load(conn)?;
                if rows.is_empty() && total == 0 {
                    Object::WorkSpec(self.id).ensure(conn)?;
                }
                if !rows.is_empty() {
                    announce_taken(conn, self.namespace.id)?;
                }
                Ok(rows.into_iter().map(|r| r.name).collect::<Vec<_>>())
            })?;
            total += names.len();
            if !batched || (names.len() as i64) < DELETE_BATCH {
                return Ok(total);
            }
            selection.after = names.into_iter().max();
        }
    }
}
