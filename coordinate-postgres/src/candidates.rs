//! Choosing a work spec, the first step of a claim: the namespace's work
//! specs as the scheduler in `coordinate_api` sees them.
//!
//! A candidate's cost does not depend on its history: its pending count
//! walks the `attempt_pending` index (pending attempts only) and checks each
//! one is still its unit's active attempt, and "has an available unit" is
//! one `EXISTS` probe of a partial index on units without an active
//! attempt.

use crate::expiry::expire_ctes;
use crate::prepared::prepared;
use chrono::{DateTime, Utc};
use coordinate_api::{AttemptRequest, WorkSpecMeta};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Integer, Text, Timestamptz};

use crate::transaction::TxResult;
use crate::work_spec_meta::MetaRow;

/// A candidate work spec with what the scheduler needs to know.
#[derive(QueryableByName)]
struct Candidate {
    #[diesel(sql_type = Integer)]
    id: i32,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(embed)]
    meta: MetaRow,
    #[diesel(sql_type = BigInt)]
    pending: i64,
    #[diesel(sql_type = Bool)]
    available: bool,
}

/// The pending units of work spec `s.id`: pending attempts that are still
/// their unit's active attempt.
///
/// Written as a semi-join on the unit's primary key, not a join on
/// `active_attempt_id`: with almost every unit's `active_attempt_id` NULL,
/// PostgreSQL estimated that join at every row of `work_unit`, so the
/// statement's cost grew with the table. A connection that had planned
/// the statement while the tables were small then judged its generic plan
/// too dear and planned afresh on every call (0.26 ms a call with a
/// million units; pg_stat_statements counted a plan per call).
macro_rules! pending_units_sql {
    () => {
        "(SELECT count(*) FROM attempt p \
           WHERE p.work_spec_id = s.id AND p.status = 'pending' \
             AND EXISTS (SELECT 1 FROM work_unit pu \
                          WHERE pu.id = p.work_unit_id AND pu.active_attempt_id = p.id))"
    };
}

/// A work spec's metadata with its pending units and whether it has an
/// available unit (`$2` is the time); a `WHERE` clause on `s` follows.
/// The two arguments extend the pending count and the availability test
/// (see [`candidates_after_expiry`]).
macro_rules! candidate_sql {
    ($pending_extra:literal, $available_extra:literal) => {
        concat!(
            "SELECT s.id, s.name, s.priority, s.weight, s.paused, s.continuous, \
                    s.can_be_continuous, s.min_memory_gb, s.interval, s.next_continuous, \
                    s.max_running, s.max_attempts_returned, s.max_retries, \
                    s.next_work_spec_name, s.runtime, ",
            pending_units_sql!(),
            $pending_extra,
            " AS pending, \
                    EXISTS (SELECT 1 FROM work_unit u \
                             WHERE u.work_spec_id = s.id AND u.active_attempt_id IS NULL \
                               AND (u.not_before IS NULL OR u.not_before <= $2))",
            $available_extra,
            " AS available \
               FROM work_spec s"
        )
    };
}

/// Expires the namespace's overdue attempts and reads its work specs that
/// pass the request's filters and are not paused, with pending counts and
/// 0/1 available counts, in one statement: a claim's first round trip.
/// The read shares the expiry's snapshot, which still shows the expired
/// attempts pending and their units taken, so the counts are corrected by
/// the units `released` returns. The claim that follows is a later
/// statement and sees the released units available.
pub(crate) fn candidates_after_expiry(
    conn: &mut PgConnection,
    namespace_id: i32,
    now: DateTime<Utc>,
    request: &AttemptRequest,
) -> TxResult<Vec<(i32, String, WorkSpecMeta)>> {
    let rows: Vec<Candidate> = prepared(concat!(
        "WITH ",
        expire_ctes!(),
        " ",
        candidate_sql!(
            " - (SELECT count(*) FROM released r WHERE r.work_spec_id = s.id)",
            " OR EXISTS (SELECT 1 FROM released r WHERE r.work_spec_id = s.id \
                           AND (r.not_before IS NULL OR r.not_before <= $2))"
        ),
        " WHERE s.namespace_id = $1 AND NOT s.paused AND s.weight > 0 \
            AND (cardinality($3::text[]) = 0 OR s.name = ANY($3)) \
            AND (cardinality($4::text[]) = 0 OR s.runtime = ANY($4))"
    ))
    .bind::<Integer, _>(namespace_id)
    .bind::<Timestamptz, _>(now)
    .bind::<Array<Text>, _>(&request.work_specs)
    .bind::<Array<Text>, _>(&request.runtimes)
    .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let pending = usize::try_from(row.pending).unwrap_or(0);
            let meta = row.meta.into_meta(usize::from(row.available), pending);
            (row.id, row.name, meta)
        })
        .collect())
}

/// One work spec's metadata with counts, its row locked against
/// concurrent changes (`FOR NO KEY UPDATE`) until the transaction ends;
/// `None` when the spec is gone.
pub(crate) fn locked_candidate(
    conn: &mut PgConnection,
    spec_id: i32,
    now: DateTime<Utc>,
) -> TxResult<Option<WorkSpecMeta>> {
    let row: Option<Candidate> = prepared(concat!(
        candidate_sql!("", ""),
        " WHERE s.id = $1 FOR NO KEY UPDATE"
    ))
    .bind::<Integer, _>(spec_id)
    .bind::<Timestamptz, _>(now)
    .get_result(conn)
    .optional()?;
    Ok(row.map(|row| {
        let pending = usize::try_from(row.pending).unwrap_or(0);
        row.meta.into_meta(usize::from(row.available), pending)
    }))
}

/// How many units of a work spec are pending now.
pub(crate) fn pending_units(conn: &mut PgConnection, spec_id: i32) -> TxResult<usize> {
    #[derive(QueryableByName)]
    struct Pending {
        #[diesel(sql_type = BigInt)]
        pending: i64,
    }
    let fresh: Pending = prepared(concat!(
        "SELECT ",
        pending_units_sql!(),
        " AS pending FROM work_spec s WHERE s.id = $1"
    ))
    .bind::<Integer, _>(spec_id)
    .get_result(conn)?;
    Ok(usize::try_from(fresh.pending).unwrap_or(0))
}
