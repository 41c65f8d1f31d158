//! The claim path, below the handles: expiring overdue attempts
//! ([`expiry`]), reading the candidate work specs ([`candidates`]), and
//! handing out units ([`request`]). It works in ids and rows; the worker
//! handle turns what it hands out into attempt handles.
//!
//! A request for an ordinary work spec costs two statements and no
//! explicit transaction:
//!
//! 1. expire the namespace's overdue attempts ([`expiry`]; it writes, and
//!    so commits, only when something ran out) and, in the same statement,
//!    read each candidate work spec's metadata with its pending count and
//!    whether it has an available unit ([`candidates`]); the scheduler in
//!    `coordinate_api` picks a work spec from that;
//! 2. claim: one statement locks the spec's row against deletion, locks
//!    the best available units with `FOR UPDATE SKIP LOCKED`, and inserts
//!    their attempts and points the units at them (`sql::claim::CLAIM`).
//!
//! Why no unit can be claimed twice: the claim runs at READ COMMITTED, where
//! `SELECT … FOR UPDATE SKIP LOCKED` returns only rows this statement has
//! locked, and PostgreSQL re-checks `active_attempt_id IS NULL` against the
//! newest committed version of each row after locking it (a row another
//! claimer changed in the meantime drops out). Every path that gives a unit
//! an active attempt (this claim, `make_attempt`, continuous units) updates
//! the unit row and so needs the same row lock; a concurrent claimer skips
//! rows we hold, and once we commit it sees `active_attempt_id` set. At
//! REPEATABLE READ, locking a row that changed after the snapshot would be a
//! serialization failure, which under load is most rows.
//!
//! A spec with `max_running` takes turns on its row instead (a stronger
//! lock, a fresh pending count, then the same claim statement, in one
//! transaction), so that the cap holds under concurrency. A gone worker is
//! noticed by the attempt's foreign key when there is work, and by an
//! explicit check only when there is none.

pub(crate) mod candidates;
pub(crate) mod expiry;
pub(crate) mod request;

pub(crate) use request::{insert_attempt, request_attempts};
