//! Statements of history retention (`Namespace::prune`): which units and
//! workers go must agree with `coordinate_api::retention::Retention`
//! (`unit_goes`, `worker_goes`).
//!
//! A unit's status comes from its active attempt, so "finished (failed)
//! and ended before the cutoff" is "its active attempt is finished
//! (failed) with an `end_time` before the cutoff". The selection starts
//! from the attempt side, one work spec at a time, oldest first: that is
//! the order of the `attempt_retention` index, so with the `LIMIT` the
//! planner walks it from its start and stops after one batch (an array
//! of specs would lose the order, and PostgreSQL 15 then preferred a
//! merge join along `attempt_pkey`). `status = $2` is repeated as
//! `status IN ('finished', 'failed')` so that the planner can prove the
//! index's predicate for any `$2`, also in a plan made once for every
//! value.

use super::Statement;

/// The work specs of a namespace whose units a prune may remove: all of
/// them, or those named; in name order, as the memory backend goes.
pub(crate) const PRUNE_SPECS: Statement = Statement {
    name: "PRUNE_SPECS",
    params: &["$1 = namespace id", "$2 = work spec names (all if empty)"],
    text: "\
SELECT id, name FROM work_spec
 WHERE namespace_id = $1 AND (cardinality($2::text[]) = 0 OR name = ANY ($2))
 ORDER BY name COLLATE \"C\"",
};

/// The parameters of the unit selection, shared by the two statements
/// below.
const UNIT_PARAMS: [&str; 4] = [
    "$1 = work spec id",
    "$2 = the terminal attempt status (finished or failed)",
    "$3 = cutoff: the attempt ended before it",
    "$4 = most units",
];

/// Deletes one batch of a work spec's units that a prune selects, oldest
/// first, with their attempts (`ON DELETE CASCADE`), and counts them.
/// Both rows are locked, skipping those another transaction holds (a
/// finish after a fail, a re-add of the unit): a row that changed since
/// the statement's snapshot is checked again once locked, so a unit that
/// stopped matching is left alone, and nobody waits for this statement
/// longer than one batch.
/// Terminal units are never claimed, so claims do not meet these rows.
/// The units are picked once, in a CTE: as `DELETE … WHERE id IN (SELECT
/// … LIMIT $4 …)`, a plan could run the subquery again and delete more
/// than `$4` (a prune past its limit, seen once in CI).
pub(crate) const PRUNE_UNITS: Statement = Statement {
    name: "PRUNE_UNITS",
    params: &UNIT_PARAMS,
    text: "\
WITH picked AS (
    SELECT u.id
      FROM attempt a JOIN work_unit u ON u.active_attempt_id = a.id
     WHERE a.work_spec_id = $1 AND a.status = $2
       AND a.status IN ('finished', 'failed') AND a.end_time < $3
     ORDER BY a.end_time
     LIMIT $4
       FOR UPDATE OF a, u SKIP LOCKED),
pruned AS (
    DELETE FROM work_unit u USING picked WHERE u.id = picked.id
    RETURNING 1)
SELECT count(*) AS count FROM pruned",
};

/// How many units [`PRUNE_UNITS`] would delete, at most `$4`.
pub(crate) const COUNT_PRUNABLE_UNITS: Statement = Statement {
    name: "COUNT_PRUNABLE_UNITS",
    params: &UNIT_PARAMS,
    text: "\
SELECT count(*) AS count FROM (
        SELECT u.id
          FROM attempt a JOIN work_unit u ON u.active_attempt_id = a.id
         WHERE a.work_spec_id = $1 AND a.status = $2
           AND a.status IN ('finished', 'failed') AND a.end_time < $3
         ORDER BY a.end_time
         LIMIT $4) AS prunable",
};

/// The parameters of the worker selection.
const WORKER_PARAMS: [&str; 3] = [
    "$1 = namespace id",
    "$2 = cutoff: the worker expired before it",
    "$3 = most workers",
];

/// Locks the workers a prune may remove: inactive, expired before the
/// cutoff, without attempts. Step one of two in one READ COMMITTED
/// transaction: an attempt inserted after this statement's snapshot
/// would not be seen here, but its foreign key check holds the worker's
/// row in KEY SHARE until it commits, so such a worker is skipped, and
/// an insert after our lock waits for it. [`PRUNE_WORKERS`] then looks
/// again with a new snapshot.
pub(crate) const LOCK_PRUNABLE_WORKERS: Statement = Statement {
    name: "LOCK_PRUNABLE_WORKERS",
    params: &WORKER_PARAMS,
    text: "\
SELECT w.id FROM worker w
 WHERE w.namespace_id = $1 AND NOT w.active AND w.expiration < $2
   AND NOT EXISTS (SELECT 1 FROM attempt a WHERE a.worker_id = w.id)
 LIMIT $3
   FOR UPDATE OF w SKIP LOCKED",
};

/// Step two: deletes the workers [`LOCK_PRUNABLE_WORKERS`] locked that
/// still have no attempts, seen with this statement's newer snapshot;
/// their children lose their parent (`ON DELETE SET NULL`).
pub(crate) const PRUNE_WORKERS: Statement = Statement {
    name: "PRUNE_WORKERS",
    params: &[
        "$1 = locked worker ids",
        "$2 = cutoff: the worker expired before it",
    ],
    text: "\
WITH pruned AS (
    DELETE FROM worker w
     WHERE w.id = ANY ($1::int4[]) AND NOT w.active AND w.expiration < $2
       AND NOT EXISTS (SELECT 1 FROM attempt a WHERE a.worker_id = w.id)
    RETURNING 1)
SELECT count(*) AS count FROM pruned",
};

/// How many workers [`LOCK_PRUNABLE_WORKERS`] would find now, at most `$3`.
pub(crate) const COUNT_PRUNABLE_WORKERS: Statement = Statement {
    name: "COUNT_PRUNABLE_WORKERS",
    params: &WORKER_PARAMS,
    text: "\
SELECT count(*) AS count FROM (
SELECT w.id FROM worker w
 WHERE w.namespace_id = $1 AND NOT w.active AND w.expiration < $2
   AND NOT EXISTS (SELECT 1 FROM attempt a WHERE a.worker_id = w.id)
 LIMIT $3) AS prunable",
};
