//! Work unit status in SQL, and the summaries built on it.

use chrono::{DateTime, Utc};
use coordinate_api::summary::normalize_summary;
use coordinate_api::{Error, Summary, SummaryRecord, WorkUnitStatus};
use diesel::pg::PgConnection;
use diesel::sql_types::{BigInt, Integer, Nullable, Text, Timestamptz};
use diesel::{sql_query, QueryableByName, RunQueryDsl};

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
        .ok_or_else(|| Error::backend(format!("unexpected work unit status {name:?}")).into())
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

/// Unit counts per namespace, work spec and status: everything, or one
/// namespace, or one work spec. One grouped query.
pub(crate) fn summarize(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    namespace_id: Option<i32>,
    work_spec_id: Option<i32>,
) -> TxResult<Summary> {
    let rows: Vec<SummaryRow> = sql_query(concat!(
        "SELECT n.name AS namespace, s.name AS work_spec, ",
        unit_status_sql!(),
        " AS status, count(*) AS count \
           FROM work_unit u \
           JOIN work_spec s ON s.id = u.work_spec_id \
           JOIN namespace n ON n.id = s.namespace_id \
           LEFT JOIN attempt a ON a.id = u.active_attempt_id \
          WHERE ($2::int4 IS NULL OR n.id = $2) AND ($3::int4 IS NULL OR s.id = $3) \
          GROUP BY 1, 2, 3"
    ))
    .bind::<Timestamptz, _>(now)
    .bind::<Nullable<Integer>, _>(namespace_id)
    .bind::<Nullable<Integer>, _>(work_spec_id)
    .load(conn)?;
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
