//! Finishing an attempt in one statement, the common case of
//! `Attempt::finish`.
//!
//! A finish that cannot create units in a `then` work spec only changes
//! the attempt's row, so one statement does all of it: lock the attempt and
//! its unit, check the attempt may still finish, end it. That is one round
//! trip and one commit instead of a five-statement transaction. Only when
//! the unit is still the attempt's and its spec names an existing `then`
//! spec (and the data may hold an `output`) does the statement leave the
//! row alone and say so; `attempt.rs` then finishes in a transaction that
//! also creates the chained units, so that both happen or neither does.

use chrono::{DateTime, Utc};
use coordinate_api::AttemptStatus;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Bytea, Integer, Nullable, Timestamptz};

use crate::attempt::DbStatus;
use crate::prepared::prepared;
use crate::schema::sql_types;
use crate::transaction::TxResult;

/// Finishes attempt `$1` at time `$2`, replacing its data with `$3` when
/// not NULL, unless chaining may apply (`$4`: the caller's data may hold an
/// `output`). Returns nothing when the attempt is gone.
///
/// The row locks come first (`target`), so the status checked is the
/// newest committed one and stays so until commit; the `UPDATE` then
/// changes the row we locked. May finish: a pending attempt, a failed one
/// (go-coordinate allows it), or an expired one still active on its unit
/// (the lease ran out but nobody took the unit), as `State::live` in
/// `attempt.rs` says.
const FINISH_SQL: &str = "\
    WITH target AS ( \
        SELECT a.id, a.status, u.active_attempt_id IS NOT DISTINCT FROM a.id AS active, \
               $4 AND EXISTS ( \
                   SELECT 1 FROM work_spec s \
                     JOIN work_spec n ON n.namespace_id = s.namespace_id \
                                     AND n.name = s.next_work_spec_name \
                    WHERE s.id = u.work_spec_id) AS chains \
          FROM attempt a JOIN work_unit u ON u.id = a.work_unit_id \
         WHERE a.id = $1 \
           FOR NO KEY UPDATE OF a, u), \
    ended AS ( \
        UPDATE attempt \
           SET status = 'finished', end_time = $2, active = FALSE, \
               data = COALESCE($3, attempt.data) \
          FROM target \
         WHERE attempt.id = target.id \
           AND (target.status IN ('pending', 'failed') \
                OR (target.status = 'expired' AND target.active)) \
           AND NOT (target.active AND target.chains) \
        RETURNING attempt.id) \
    SELECT target.status, target.active AND target.chains AS chains, \
           EXISTS (SELECT 1 FROM ended) AS ended \
      FROM target";

/// What the one-statement finish did.
pub(crate) enum QuickFinish {
    /// The attempt is finished.
    Finished,
    /// The attempt may not finish any more; nothing changed.
    NotPending,
    /// The attempt (or its unit) no longer exists.
    Gone,
    /// Finishing may create chained units; nothing changed, finish in a
    /// transaction instead.
    MayChain,
}

#[derive(QueryableByName)]
struct Outcome {
    #[diesel(sql_type = sql_types::AttemptStatus)]
    status: DbStatus,
    #[diesel(sql_type = Bool)]
    chains: bool,
    #[diesel(sql_type = Bool)]
    ended: bool,
}

/// Runs [`FINISH_SQL`] on its own (it is atomic by itself).
pub(crate) fn finish_unless_chaining(
    conn: &mut PgConnection,
    attempt_id: i32,
    now: DateTime<Utc>,
    data: Option<&[u8]>,
    may_chain: bool,
) -> TxResult<QuickFinish> {
    let outcome: Option<Outcome> = prepared(FINISH_SQL)
        .bind::<Integer, _>(attempt_id)
        .bind::<Timestamptz, _>(now)
        .bind::<Nullable<Bytea>, _>(data)
        .bind::<Bool, _>(may_chain)
        .get_result(conn)
        .optional()?;
    Ok(match outcome {
        None => QuickFinish::Gone,
        Some(outcome) if outcome.ended => QuickFinish::Finished,
        // Only a live attempt is held back for chaining; a dead one with a
        // `then` spec is simply not pending.
        Some(outcome) if outcome.chains && is_live_status(outcome.status.0) => {
            QuickFinish::MayChain
        }
        Some(_) => QuickFinish::NotPending,
    })
}

/// Statuses from which an active attempt may finish.
fn is_live_status(status: AttemptStatus) -> bool {
    matches!(
        status,
        AttemptStatus::Pending | AttemptStatus::Failed | AttemptStatus::Expired
    )
}
