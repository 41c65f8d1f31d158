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
use coordinate_api::backend::lifecycle::{decide, Call};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Bytea, Integer, Nullable, Timestamptz};

use crate::db::attempt_status::DbStatus;
use crate::db::transaction::TxResult;
use crate::schema::sql_types;
use crate::sql::attempt::FINISH;

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
    active: bool,
    #[diesel(sql_type = Bool)]
    chains: bool,
    #[diesel(sql_type = Bool)]
    ended: bool,
}

/// Whether finishing with `data` may create units in a `then` spec: data
/// without `output` cannot, whatever the spec.
pub(crate) fn may_chain(data: Option<&coordinate_api::Data>) -> bool {
    data.is_none_or(|d| d.contains_key("output"))
}

/// Runs [`FINISH`] on its own (it is atomic by itself).
pub(crate) fn finish_unless_chaining(
    conn: &mut PgConnection,
    attempt_id: i32,
    now: DateTime<Utc>,
    data: Option<&[u8]>,
    may_chain: bool,
) -> TxResult<QuickFinish> {
    let outcome: Option<Outcome> = FINISH
        .prepare()
        .bind::<Integer, _>(attempt_id)
        .bind::<Timestamptz, _>(now)
        .bind::<Nullable<Bytea>, _>(data)
        .bind::<Bool, _>(may_chain)
        .get_result(conn)
        .optional()?;
    Ok(match outcome {
        None => QuickFinish::Gone,
        Some(outcome) if outcome.ended => QuickFinish::Finished,
        // Held back only where `lifecycle` would chain (an attempt that may
        // finish and is still active); anything else the statement left
        // alone may not finish.
        Some(outcome) => match decide(Call::Finish, outcome.status.0, outcome.active) {
            Some(effect) if effect.chain && outcome.chains => QuickFinish::MayChain,
            _ => QuickFinish::NotPending,
        },
    })
}
