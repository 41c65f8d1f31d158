//! Work unit status in SQL, and the summaries built on it.

use crate::prepared::prepared;
use chrono::{DateTime, Utc};
use coordinate_api::summary::normalize_summary;
use coordinate_api::{Summary, SummaryRecord, WorkUnitStatus};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Integer, Text, Timestamptz};

use crate::schema::work_spec;
use crate::transaction::TxResult;

/// SQL expression for a unit's status, for queries that count or filter
/// many units at once. It is `coordinate_api::status::derive_work_unit_status`
/// written in SQL, over `work_unit u LEFT JOIN attempt a ON a.id =
/// u.active_attempt_id`, with `$1` bound to the clock's time.
///
/// A pending attempt past its expiration counts as expired even before
/// expiry has run, so reads that do not write (summaries across namespaces)
/// agree with those that expire first.
macro_rules! unit_status_sql {
    () => {
        "CASE WHEN a.status = 'pending' AND a.expiration_time >= $1 THEN 'pending' \
              WHEN a.status = 'finished' THEN 'finished' \
              WHEN a.status = 'failed' THEN 'failed' \
              WHEN u.not_before > $1 THEN 'delayed' \
              ELSE 'available' END"
    };
}

/// The status named by [`unit_status_sql!`]'s output.
pub(crate) fn parse_unit_status(name: &str) -> TxResult<WorkUnitStatus> {
    WorkUnitStatus::ALL
        .into_iter()
        .find(|status| status.as_str() == name)
        .ok_or_else(|| {
            crate::error::unreadable(format!("unexpected work unit status {name:?}")).into()
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

/// Counts units by namespace, work spec and status; `WHERE` and `GROUP BY`
/// clauses follow.
macro_rules! summary_sql {
    () => {
        concat!(
            "SELECT n.name AS namespace, s.name AS work_spec, ",
            unit_status_sql!(),
            " AS status, count(*) AS count \
               FROM work_unit u \
               JOIN work_spec s ON s.id = u.work_spec_id \
               JOIN namespace n ON n.id = s.namespace_id \
               LEFT JOIN attempt a ON a.id = u.active_attempt_id "
        )
    };
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
        Scope::Everything => prepared(concat!(summary_sql!(), "GROUP BY 1, 2, 3"))
            .bind::<Timestamptz, _>(now)
            .load(conn)?,
        _ if spec_ids.is_empty() => Vec::new(),
        _ => prepared(concat!(
            summary_sql!(),
            "WHERE u.work_spec_id = ANY ($2) GROUP BY 1, 2, 3"
        ))
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
