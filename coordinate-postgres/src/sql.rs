//! Every hand-written SQL statement of this backend, each whole in one
//! constant, with what each `$n` parameter is.
//!
//! Statements are grouped by concept: claiming work ([`claim`]), changing
//! and listing attempts ([`attempt`]), batches of completions
//! ([`completion`]), reading or writing units, names
//! and summaries ([`unit`]), and history retention ([`retention`]). The callers bind parameters in the order
//! [`Statement::params`] lists them; `tests` pins every statement's text
//! and parameters in a snapshot file, so a shifted parameter shows up as a
//! diff. Where a statement must agree with a rule written in Rust (in
//! `coordinate_api`), its doc comment names that rule.

pub(crate) mod attempt;
pub(crate) mod claim;
pub(crate) mod completion;
pub(crate) mod prepared;
pub(crate) mod retention;
pub(crate) mod unit;

use self::prepared::{prepared, Prepared};

/// One SQL statement and its parameters.
// The name and parameters are read by the tests (and by people).
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) struct Statement {
    /// The constant's name, for the snapshot and error messages.
    pub(crate) name: &'static str,
    /// What `$1`, `$2`, … are, in order, each written `"$n = meaning"`.
    pub(crate) params: &'static [&'static str],
    /// The statement.
    pub(crate) text: &'static str,
}

impl Statement {
    /// The statement ready to bind, on the per-connection cache (see
    /// [`prepared`]).
    pub(crate) fn prepare(&'static self) -> Prepared<'static> {
        prepared(self.text)
    }
}

/// A row of `id` and `name`, as the name listings in [`unit`] return.
#[derive(diesel::QueryableByName)]
pub(crate) struct IdName {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pub(crate) id: i32,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub(crate) name: String,
}

/// Every statement, for the tests.
#[cfg(test)]
pub(crate) const ALL: &[&Statement] = &[
    &claim::EXPIRE_OVERDUE,
    &claim::CANDIDATES_AFTER_EXPIRY,
    &claim::LOCKED_CANDIDATE,
    &claim::PENDING_UNITS,
    &claim::CLAIM,
    &claim::CLAIM_ONE,
    &claim::CONTINUOUS_UNIT,
    &claim::INSERT_ATTEMPT,
    &attempt::FINISH,
    &attempt::END_ATTEMPT,
    &attempt::RENEW_ATTEMPT,
    &attempt::SET_ATTEMPT_DATA,
    &attempt::RELEASE_UNIT,
    &attempt::RELEASE_AND_DELAY_UNIT,
    &attempt::UNIT_ACTIVE_ATTEMPT,
    &attempt::UNIT_ATTEMPTS,
    &attempt::WORKER_ACTIVE_ATTEMPTS,
    &attempt::WORKER_ATTEMPTS,
    &attempt::CHILD_ACTIVE_ATTEMPTS,
    &attempt::COUNT_UNIT_ATTEMPTS,
    &completion::LOCK_BATCH,
    &completion::END_BATCH,
    &completion::RELEASE_BATCH,
    &unit::UPSERT_UNITS,
    &unit::CLEAR_ACTIVE_ATTEMPT,
    &unit::SELECT_UNITS,
    &unit::SET_UNIT_PRIORITIES,
    &unit::ADJUST_UNIT_PRIORITIES,
    &unit::DELETE_UNITS,
    &unit::SUMMARY_ALL,
    &unit::SUMMARY_OF_SPECS,
    &unit::NAMESPACES,
    &unit::SERVER_READ_ONLY,
    &unit::WORK_SPEC_NAMES,
    &unit::WORKERS,
    &unit::CHILD_WORKERS,
    &unit::WAKE,
    &retention::PRUNE_SPECS,
    &retention::PRUNE_UNITS,
    &retention::COUNT_PRUNABLE_UNITS,
    &retention::LOCK_PRUNABLE_WORKERS,
    &retention::PRUNE_WORKERS,
    &retention::COUNT_PRUNABLE_WORKERS,
];

#[cfg(test)]
mod tests;
