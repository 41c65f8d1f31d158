//! Statements that change one attempt, and those that list attempts.

use super::Statement;

/// Finishes an attempt in one statement unless chaining may apply. The
/// row locks come first (`target`), so the status checked is the newest
/// committed one and stays so until commit; the `UPDATE` then changes the
/// row we locked.
///
/// Which attempts may finish must agree with
/// `coordinate_api::backend::lifecycle::may_finish`: pending or failed, or expired
/// while still its unit's active attempt. A still-active attempt whose
/// spec names an existing `then` spec is left alone when `$4` says the
/// data may hold an `output` (`lifecycle` chains only for an active
/// attempt); the caller then finishes it in a transaction.
pub(crate) const FINISH: Statement = Statement {
    name: "FINISH",
    params: &[
        "$1 = attempt id",
        "$2 = now",
        "$3 = new data (NULL keeps the data)",
        "$4 = whether the data may hold an output",
    ],
    text: "\
WITH target AS (
    SELECT a.id, a.status, u.active_attempt_id IS NOT DISTINCT FROM a.id AS active,
           $4 AND EXISTS (
               SELECT 1 FROM work_spec s
                 JOIN work_spec n ON n.namespace_id = s.namespace_id
                                 AND n.name = s.next_work_spec_name
                WHERE s.id = u.work_spec_id) AS chains
      FROM attempt a JOIN work_unit u ON u.id = a.work_unit_id
     WHERE a.id = $1
       FOR NO KEY UPDATE OF a, u),
ended AS (
    UPDATE attempt
       SET status = 'finished', end_time = $2, active = FALSE,
           data = COALESCE($3, attempt.data)
      FROM target
     WHERE attempt.id = target.id
       AND (target.status IN ('pending', 'failed')
            OR (target.status = 'expired' AND target.active))
       AND NOT (target.active AND target.chains)
    RETURNING attempt.id)
SELECT target.status, target.active, target.chains,
       EXISTS (SELECT 1 FROM ended) AS ended
  FROM target",
};

/// Ends an attempt (`coordinate_api::backend::lifecycle::Change::End`): its new
/// status, end time, off its worker's active list, data replaced if given.
pub(crate) const END_ATTEMPT: Statement = Statement {
    name: "END_ATTEMPT",
    params: &[
        "$1 = attempt id",
        "$2 = new status",
        "$3 = now",
        "$4 = new data (NULL keeps the data)",
    ],
    text: "\
UPDATE attempt
   SET status = $2, end_time = $3, active = FALSE, data = COALESCE($4, data)
 WHERE id = $1",
};

/// Extends an attempt's lease (`coordinate_api::backend::lifecycle::Change::Extend`):
/// pending again, no end time, back on its worker's active list.
pub(crate) const RENEW_ATTEMPT: Statement = Statement {
    name: "RENEW_ATTEMPT",
    params: &[
        "$1 = attempt id",
        "$2 = lease end",
        "$3 = new data (NULL keeps the data)",
    ],
    text: "\
UPDATE attempt
   SET expiration_time = $2, status = 'pending', active = TRUE, end_time = NULL,
       data = COALESCE($3, data)
 WHERE id = $1",
};

/// Replaces an attempt's data (`coordinate_api::backend::lifecycle::Change::DataOnly`).
pub(crate) const SET_ATTEMPT_DATA: Statement = Statement {
    name: "SET_ATTEMPT_DATA",
    params: &["$1 = attempt id", "$2 = new data"],
    text: "UPDATE attempt SET data = $2 WHERE id = $1",
};

/// Clears a unit's active attempt if it is the one given
/// (`coordinate_api::backend::lifecycle::Effect::release`), and wakes the
/// namespace's waiters in `wait_for_work` (the notification is delivered
/// at commit, so never before the unit is free).
pub(crate) const RELEASE_UNIT: Statement = Statement {
    name: "RELEASE_UNIT",
    params: &["$1 = work unit id", "$2 = attempt id"],
    text: "\
UPDATE work_unit SET active_attempt_id = NULL WHERE id = $1 AND active_attempt_id = $2
RETURNING pg_notify('coordinate_work', (SELECT namespace_id FROM work_spec WHERE id = work_unit.work_spec_id)::text)",
};

/// Delays a unit and clears its active attempt if it is the one given
/// (`coordinate_api::backend::lifecycle::Effect::delay_unit`, which always comes
/// with `release`). Wakes the namespace's waiters too: spuriously while
/// the delay runs, which is cheaper than deciding whether it is over.
pub(crate) const RELEASE_AND_DELAY_UNIT: Statement = Statement {
    name: "RELEASE_AND_DELAY_UNIT",
    params: &[
        "$1 = not-before time",
        "$2 = attempt id",
        "$3 = work unit id",
    ],
    text: "\
UPDATE work_unit SET not_before = $1, active_attempt_id = NULLIF(active_attempt_id, $2)
 WHERE id = $3
RETURNING pg_notify('coordinate_work', (SELECT namespace_id FROM work_spec WHERE id = work_unit.work_spec_id)::text)",
};

/// A unit's active attempt with its unit, work spec and worker (no row
/// when it has none).
pub(crate) const UNIT_ACTIVE_ATTEMPT: Statement = Statement {
    name: "UNIT_ACTIVE_ATTEMPT",
    params: &["$1 = work unit id"],
    text: "\
SELECT a.id AS attempt_id, u.id AS unit_id, u.name AS unit_name,
       s.id AS spec_id, s.name AS spec_name, w.id AS worker_id, w.name AS worker_name
  FROM attempt a
  JOIN work_unit u ON u.id = a.work_unit_id
  JOIN work_spec s ON s.id = u.work_spec_id
  JOIN worker w ON w.id = a.worker_id
 WHERE a.id = (SELECT active_attempt_id FROM work_unit WHERE id = $1)
 ORDER BY a.id",
};

/// Every attempt on a unit, oldest first, as [`UNIT_ACTIVE_ATTEMPT`].
pub(crate) const UNIT_ATTEMPTS: Statement = Statement {
    name: "UNIT_ATTEMPTS",
    params: &["$1 = work unit id"],
    text: "\
SELECT a.id AS attempt_id, u.id AS unit_id, u.name AS unit_name,
       s.id AS spec_id, s.name AS spec_name, w.id AS worker_id, w.name AS worker_name
  FROM attempt a
  JOIN work_unit u ON u.id = a.work_unit_id
  JOIN work_spec s ON s.id = u.work_spec_id
  JOIN worker w ON w.id = a.worker_id
 WHERE a.work_unit_id = $1
 ORDER BY a.id",
};

/// A worker's attempts still on its active list, oldest first.
pub(crate) const WORKER_ACTIVE_ATTEMPTS: Statement = Statement {
    name: "WORKER_ACTIVE_ATTEMPTS",
    params: &["$1 = worker id"],
    text: "\
SELECT a.id AS attempt_id, u.id AS unit_id, u.name AS unit_name,
       s.id AS spec_id, s.name AS spec_name, w.id AS worker_id, w.name AS worker_name
  FROM attempt a
  JOIN work_unit u ON u.id = a.work_unit_id
  JOIN work_spec s ON s.id = u.work_spec_id
  JOIN worker w ON w.id = a.worker_id
 WHERE a.worker_id = $1 AND a.active
 ORDER BY a.id",
};

/// Every attempt a worker made, oldest first.
pub(crate) const WORKER_ATTEMPTS: Statement = Statement {
    name: "WORKER_ATTEMPTS",
    params: &["$1 = worker id"],
    text: "\
SELECT a.id AS attempt_id, u.id AS unit_id, u.name AS unit_name,
       s.id AS spec_id, s.name AS spec_name, w.id AS worker_id, w.name AS worker_name
  FROM attempt a
  JOIN work_unit u ON u.id = a.work_unit_id
  JOIN work_spec s ON s.id = u.work_spec_id
  JOIN worker w ON w.id = a.worker_id
 WHERE a.worker_id = $1
 ORDER BY a.id",
};

/// The active attempts of a worker's children, oldest first.
pub(crate) const CHILD_ACTIVE_ATTEMPTS: Statement = Statement {
    name: "CHILD_ACTIVE_ATTEMPTS",
    params: &["$1 = parent worker id"],
    text: "\
SELECT a.id AS attempt_id, u.id AS unit_id, u.name AS unit_name,
       s.id AS spec_id, s.name AS spec_name, w.id AS worker_id, w.name AS worker_name
  FROM attempt a
  JOIN work_unit u ON u.id = a.work_unit_id
  JOIN work_spec s ON s.id = u.work_spec_id
  JOIN worker w ON w.id = a.worker_id
 WHERE w.parent = $1 AND a.active
 ORDER BY a.id",
};

/// How many attempts a unit has had; no row when the unit is gone.
pub(crate) const COUNT_UNIT_ATTEMPTS: Statement = Statement {
    name: "COUNT_UNIT_ATTEMPTS",
    params: &["$1 = work unit id"],
    text: "\
SELECT (SELECT count(*) FROM attempt WHERE work_unit_id = u.id) AS count
  FROM work_unit u WHERE u.id = $1",
};
