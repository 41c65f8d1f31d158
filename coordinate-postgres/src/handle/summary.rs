//! Work unit status in SQL, and the summaries built on it.

use chrono::{DateTime, Utc};
use coordinate_api::summary::normalize_summary;
use coordinate_api::{Summary, SummaryRecord, WorkUnitStatus};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Integer, Text, Timestamptz};

use crate::db::transaction::TxResult;
use crate::schema::work_spec;
use crate::sql::unit::{SUMMARY_ALL, SUMMARY_OF_SPECS};

/// A unit status as the statements in `sql::unit` spell it.
pub(crate) fn parse_unit_status(name: &str) -> TxResult<WorkUnitStatus> {
    WorkUnitStatus::ALL
        .into_iter()
        .find(|status| status.as_str() == name)
        .ok_or_else(|| {
            crate::db::error::unreadable(format!("unexpected work unit status {name:?}")).into()
        })
}

#[derive(QueryableByName)]
struct SummaryRow {
    #[diesel(sql_type = Text)]
    namespace: String,
    #[diesel(sql_type = Text)]
    work_spec: String,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = BigInt)]
    count: i64,
}

/// What a summary covers.
#[derive(Clone, Copy)]
pub(crate) enum Scope {
    /// Every namespace.
    Everything,
    /// One namespace.
    Namespace(i32),
    /// One work spec.
    WorkSpec(i32),
}

/// Unit counts per namespace, work spec and status. Run it in a REPEATABLE
/// READ transaction: a namespace or work spec summary takes two statements.
///
/// Those first look up the scope's work spec ids and then pass them as a
/// constant array, so PostgreSQL plans with the statistics of exactly those
/// specs: an index scan for a small namespace, a hash join for a huge one.
/// With the ids behind a join or subquery it can only guess from the
/// average over all specs, and next to one huge spec it then scans the
/// whole `work_unit` and `attempt` tables to summarise a handful of units.
pub(crate) fn summarize(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    scope: Scope,
) -> TxResult<Summary> {
    let spec_ids: Vec<i32> = match scope {
        Scope::Everything => Vec::new(),
        Scope::Namespace(id) => work_spec::table
            .filter(work_spec::namespace_id.eq(id))
            .select(work_spec::id)
            .load(conn)?,
        Scope::WorkSpec(id) => work_spec::table.find(id).select(work_spec::id).load(conn)?,
    };
    let rows: Vec<SummaryRow> = match scope {
        Scope::Everything => SUMMARY_ALL
            .prepare()
            .bind::<Timestamptz, _>(now)
            .load(conn)?,
        _ if spec_ids.is_empty() => Vec::new(),
        _ => SUMMARY_OF_SPECS
            .prepare()
            .bind::<Timestamptz, _>(now)
            .bind::<Array<Integer>, _>(&spec_ids)
            .load(conn)?,
    };
    let records = rows
        .into_iter()
        .map(|row| {
            Ok(SummaryRecord {
                namespace: row.namespace,
                work_spec: row.work_spec,
                status: parse_unit_status(&row.status)?,
                count: usize::try_from(row.count).unwrap_or(usize::MAX),
            })
        })
        .collect::<TxResult<Vec<_>>>()?;
    Ok(normalize_summary(records))
}
