//! Choosing a work spec, the first step of a claim: the namespace's work
//! specs as the scheduler in `coordinate_api` sees them.
//!
//! A candidate's cost does not depend on its history: its pending count
//! walks the `attempt_pending` index (pending attempts only) and checks each
//! one is still its unit's active attempt, and "has an available unit" is
//! one `EXISTS` probe of a partial index on units without an active
//! attempt.

use chrono::{DateTime, Utc};
use coordinate_api::{AttemptRequest, WorkSpecMeta};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Integer, Text, Timestamptz};

use crate::db::transaction::TxResult;
use crate::db::work_spec_meta::MetaRow;
use crate::sql::claim::{CANDIDATES_AFTER_EXPIRY, LOCKED_CANDIDATE, PENDING_UNITS};

/// A candidate work spec row, as read.
#[derive(QueryableByName)]
struct CandidateRow {
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

/// A work spec the scheduler may choose: its id, name and metadata with
/// counts.
pub(crate) struct Candidate {
    pub(crate) id: i32,
    pub(crate) name: String,
    pub(crate) meta: WorkSpecMeta,
}

impl coordinate_api::backend::scheduler::Candidate for Candidate {
    fn name(&self) -> &str {
        &self.name
    }

    fn meta(&self) -> &WorkSpecMeta {
        &self.meta
    }
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
) -> TxResult<Vec<Candidate>> {
    let rows: Vec<CandidateRow> = CANDIDATES_AFTER_EXPIRY
        .prepare()
        .bind::<Integer, _>(namespace_id)
        .bind::<Timestamptz, _>(now)
        .bind::<Array<Text>, _>(&request.work_specs)
        .bind::<Array<Text>, _>(&request.runtimes)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let pending = usize::try_from(row.pending).unwrap_or(0);
            Candidate {
                id: row.id,
                name: row.name,
                meta: row.meta.into_meta(usize::from(row.available), pending),
            }
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
    let row: Option<CandidateRow> = LOCKED_CANDIDATE
        .prepare()
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
    let fresh: Pending = PENDING_UNITS
        .prepare()
        .bind::<Integer, _>(spec_id)
        .get_result(conn)?;
    Ok(usize::try_from(fresh.pending).unwrap_or(0))
}
