//! The statements of a batch of completions or renewals
//! (`completion.rs`): lock the batch, write its attempts, release its
//! units. Each takes arrays, so a batch of any size is these three.

use super::Statement;

/// Locks the batch's attempts and their units, in attempt id order (so
/// concurrent batches take row locks in one order and cannot deadlock),
/// and reads each one's state, whether it is its unit's active attempt,
/// its effective data and the id of its spec's `then` work spec (NULL
/// when there is none). `FOR NO KEY UPDATE` as in [`super::attempt::FINISH`]:
/// it does not block foreign-key checks of claims inserting attempts.
pub(crate) const LOCK_BATCH: Statement = Statement {
    name: "LOCK_BATCH",
    params: &["$1 = attempt ids (int4[])"],
    text: "\
SELECT a.id, a.work_unit_id, u.work_spec_id, u.name AS unit_name, a.status, a.active AS listed,
       a.end_time, a.expiration_time, u.active_attempt_id IS NOT DISTINCT FROM a.id AS active,
       COALESCE(a.data, u.data) AS data, n.id AS next_spec
  FROM attempt a JOIN work_unit u ON u.id = a.work_unit_id
  JOIN work_spec s ON s.id = u.work_spec_id
  LEFT JOIN work_spec n ON n.namespace_id = s.namespace_id
                       AND n.name = s.next_work_spec_name
 WHERE a.id = ANY ($1)
 ORDER BY a.id
   FOR NO KEY UPDATE OF a, u",
};

/// Writes the batch's changed attempts, one array element per attempt.
pub(crate) const END_BATCH: Statement = Statement {
    name: "END_BATCH",
    params: &[
        "$1 = attempt ids (int4[])",
        "$2 = statuses (text[])",
        "$3 = end times (timestamptz[], NULL while not ended)",
        "$4 = whether still on the worker's active list (bool[])",
        "$5 = new data (bytea[], NULL keeps the stored data)",
        "$6 = expiration times (timestamptz[])",
    ],
    text: "\
UPDATE attempt SET status = x.status::attempt_status, end_time = x.end_time,
       active = x.active, data = COALESCE(x.data, attempt.data),
       expiration_time = x.expiration
  FROM unnest($1::int4[], $2::text[], $3::timestamptz[], $4::bool[], $5::bytea[],
              $6::timestamptz[]) AS x(id, status, end_time, active, data, expiration)
 WHERE attempt.id = x.id",
};

/// Releases the batch's units. A unit is freed only while the attempt
/// released is still its active one, so a stale completion cannot undo a
/// newer claim. Wakes the waiters of the units' namespace.
pub(crate) const RELEASE_BATCH: Statement = Statement {
    name: "RELEASE_BATCH",
    params: &[
        "$1 = unit ids (int4[])",
        "$2 = the attempt whose end frees each unit (int4[], NULL: none)",
        "$3 = new not-before times (timestamptz[], NULL keeps it)",
    ],
    text: "\
UPDATE work_unit SET active_attempt_id = NULLIF(work_unit.active_attempt_id, x.released),
       not_before = COALESCE(x.not_before, work_unit.not_before)
  FROM unnest($1::int4[], $2::int4[], $3::timestamptz[]) AS x(id, released, not_before)
 WHERE work_unit.id = x.id
RETURNING pg_notify('coordinate_work', (SELECT namespace_id FROM work_spec WHERE id = work_unit.work_spec_id)::text)",
};
