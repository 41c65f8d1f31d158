//! Statements of a claim: expiry, the candidate work specs, and handing
//! out units.

use super::Statement;

/// Expires namespace `$1`'s overdue pending attempts as of `$2` and
/// counts the units released. `overdue` marks them expired (ended `$2`,
/// off their workers' active lists); `released` frees their units, so an
/// expired attempt is never a unit's active attempt (as
/// `coordinate_api::backend::lifecycle` has `Call::Expire` release the unit).
///
/// The work specs are given as an array (`= ANY (ARRAY(…))`) rather than
/// `IN (SELECT …)` so that both columns of `attempt_pending` bound the
/// index scan; with `IN`, PostgreSQL may scan the index by expiration time
/// alone and read the overdue attempts of every namespace.
/// [`CANDIDATES_AFTER_EXPIRY`] starts with the same two CTEs (a test
/// checks they stay the same).
pub(crate) const EXPIRE_OVERDUE: Statement = Statement {
    name: "EXPIRE_OVERDUE",
    params: &["$1 = namespace id", "$2 = now"],
    text: "\
WITH overdue AS (
    UPDATE attempt SET status = 'expired', end_time = $2, active = FALSE
     WHERE status = 'pending' AND expiration_time < $2
       AND work_spec_id = ANY (ARRAY(SELECT id FROM work_spec WHERE namespace_id = $1))
    RETURNING id, work_unit_id),
released AS (
    UPDATE work_unit SET active_attempt_id = NULL
      FROM overdue
     WHERE work_unit.id = overdue.work_unit_id
       AND work_unit.active_attempt_id = overdue.id
    RETURNING work_unit.work_spec_id, work_unit.not_before,
              pg_notify('coordinate_work', $1::text) AS woke)
SELECT count(*) AS count FROM released",
};

/// [`EXPIRE_OVERDUE`]'s expiry, then the namespace's work specs that pass
/// the request's filters and are not paused, with pending counts and
/// whether each has an available unit (0/1), in one round trip: a claim's
/// first statement. The read shares the expiry's snapshot, which still
/// shows the expired attempts pending and their units taken, so the
/// counts are corrected by the units `released` returns.
///
/// The pending count is [`PENDING_UNITS`]'s; the filters are
/// `coordinate_api::backend::scheduler::request_admits` (the scheduler checks again).
pub(crate) const CANDIDATES_AFTER_EXPIRY: Statement = Statement {
    name: "CANDIDATES_AFTER_EXPIRY",
    params: &[
        "$1 = namespace id",
        "$2 = now",
        "$3 = work spec names the request admits (all if empty)",
        "$4 = runtimes the request admits (all if empty)",
    ],
    text: "\
WITH overdue AS (
    UPDATE attempt SET status = 'expired', end_time = $2, active = FALSE
     WHERE status = 'pending' AND expiration_time < $2
       AND work_spec_id = ANY (ARRAY(SELECT id FROM work_spec WHERE namespace_id = $1))
    RETURNING id, work_unit_id),
released AS (
    UPDATE work_unit SET active_attempt_id = NULL
      FROM overdue
     WHERE work_unit.id = overdue.work_unit_id
       AND work_unit.active_attempt_id = overdue.id
    RETURNING work_unit.work_spec_id, work_unit.not_before,
              pg_notify('coordinate_work', $1::text) AS woke)
SELECT s.id, s.name, s.priority, s.weight, s.paused, s.continuous,
       s.can_be_continuous, s.min_memory_gb, s.interval, s.next_continuous,
       s.max_running, s.max_attempts_returned, s.max_retries,
       s.next_work_spec_name, s.runtime,
       (SELECT count(*) FROM attempt p
         WHERE p.work_spec_id = s.id AND p.status = 'pending'
           AND EXISTS (SELECT 1 FROM work_unit pu
                        WHERE pu.id = p.work_unit_id AND pu.active_attempt_id = p.id))
       - (SELECT count(*) FROM released r WHERE r.work_spec_id = s.id) AS pending,
       EXISTS (SELECT 1 FROM work_unit u
                WHERE u.work_spec_id = s.id AND u.active_attempt_id IS NULL
                  AND (u.not_before IS NULL OR u.not_before <= $2))
       OR EXISTS (SELECT 1 FROM released r WHERE r.work_spec_id = s.id
                     AND (r.not_before IS NULL OR r.not_before <= $2)) AS available
  FROM work_spec s
 WHERE s.namespace_id = $1 AND NOT s.paused AND s.weight > 0
   AND (cardinality($3::text[]) = 0 OR s.name = ANY($3))
   AND (cardinality($4::text[]) = 0 OR s.runtime = ANY($4))",
};

/// One work spec's metadata with its pending count ([`PENDING_UNITS`]'s)
/// and whether it has an available unit, its row locked against
/// concurrent changes until the transaction ends.
pub(crate) const LOCKED_CANDIDATE: Statement = Statement {
    name: "LOCKED_CANDIDATE",
    params: &["$1 = work spec id", "$2 = now"],
    text: "\
SELECT s.id, s.name, s.priority, s.weight, s.paused, s.continuous,
       s.can_be_continuous, s.min_memory_gb, s.interval, s.next_continuous,
       s.max_running, s.max_attempts_returned, s.max_retries,
       s.next_work_spec_name, s.runtime,
       (SELECT count(*) FROM attempt p
         WHERE p.work_spec_id = s.id AND p.status = 'pending'
           AND EXISTS (SELECT 1 FROM work_unit pu
                        WHERE pu.id = p.work_unit_id AND pu.active_attempt_id = p.id)) AS pending,
       EXISTS (SELECT 1 FROM work_unit u
                WHERE u.work_spec_id = s.id AND u.active_attempt_id IS NULL
                  AND (u.not_before IS NULL OR u.not_before <= $2)) AS available
  FROM work_spec s
 WHERE s.id = $1 FOR NO KEY UPDATE",
};

/// The pending units of a work spec: pending attempts that are still their
/// unit's active attempt (`coordinate_api::status::derive_work_unit_status`
/// calls exactly those units pending). The one definition of the count;
/// [`CANDIDATES_AFTER_EXPIRY`] and [`LOCKED_CANDIDATE`] embed it.
///
/// Written as a semi-join on the unit's primary key, not a join on
/// `active_attempt_id`: with almost every unit's `active_attempt_id` NULL,
/// PostgreSQL estimated that join at every row of `work_unit`, so the
/// statement's cost grew with the table, and a connection that had planned
/// it while the tables were small then re-planned it on every call.
pub(crate) const PENDING_UNITS: Statement = Statement {
    name: "PENDING_UNITS",
    params: &["$1 = work spec id"],
    text: "\
SELECT (SELECT count(*) FROM attempt p
         WHERE p.work_spec_id = s.id AND p.status = 'pending'
           AND EXISTS (SELECT 1 FROM work_unit pu
                        WHERE pu.id = p.work_unit_id AND pu.active_attempt_id = p.id)) AS pending
  FROM work_spec s WHERE s.id = $1",
};

/// Claims up to `$5` available units of work spec `$1` for worker `$2`
/// at time `$3`, leases running for `$4 - $3`. Planned on every call: a
/// plan made without knowing `$5` assumes thousands of units and joins
/// them to all of `work_unit` with a full scan.
///
/// - The spec's row gets a key-share lock before any unit. Deleting a spec
///   (or its namespace) locks that row first and its units after (ON DELETE
///   CASCADE); a claimer holding units that then needed the spec's row (the
///   attempts' foreign key) would deadlock with it. A key-share lock stops
///   only deletion, not other claimers or spec updates. `EXISTS (spec)` is
///   a one-time filter, evaluated before the first unit is read.
/// - Only a unit whose row is still the version our snapshot read is
///   claimed (the `xmin` comparison). At READ COMMITTED a row that changed
///   after the snapshot is re-checked in its newest version when we lock
///   it; if another worker claimed the unit *and* released it meanwhile,
///   the newest version looks free, but that worker's attempt is not in our
///   snapshot, so `history` could not see when its lease ended. The
///   sub-select reads the snapshot's version, the outer `u` the locked one:
///   they differ exactly then, and the unit is left for the next round,
///   whose new snapshot shows the attempt (`tests/store/lease_start.rs`).
///   The comparison is wrapped in a `CASE` for the planner's sake only:
///   it guesses that an equality with a sub-select keeps one row in 200,
///   and with a queue of about 200 times the `LIMIT` it then expected no
///   more than the limit to pass, so it sorted every available unit
///   instead of walking `work_unit_claim` in order and stopping at the
///   limit (60,371 buffers for a claim of 100 from 20,000 queued units,
///   against 504). A `CASE` it guesses keeps half; the result is the same
///   (a NULL comparison is false either way).
/// - An attempt starts no earlier than the unit's previous attempt ended:
///   a unit freed by another worker's expiry or retry, whose clock read
///   came after ours, must not get a lease overlapping the previous one.
///   With the check above, every attempt that ever held the unit is in
///   the snapshot `history` reads, and the clock reading `$3` is taken
///   for each try of this statement (`claim.rs`).
/// - A unit that already had `$6` attempts (`max_retries`, when positive)
///   gets a failed attempt with data `$7` instead: this must agree with
///   `coordinate_api::backend::scheduler::retries_exhausted`.
/// - The unit rows are ours until commit, so the final `UPDATE` needs no
///   second look at `active_attempt_id`.
/// - `RETURNING` keeps no order, so the batch is sorted again at the end:
///   callers get the best unit first, as the scheduler promises.
///
/// [`CLAIM_ONE`] is the same statement with `LIMIT 1` (a test checks).
pub(crate) const CLAIM: Statement = Statement {
    name: "CLAIM",
    params: &[
        "$1 = work spec id",
        "$2 = worker id",
        "$3 = now",
        "$4 = lease end",
        "$5 = most units to claim",
        "$6 = max_retries (0: no limit)",
        "$7 = data of an attempt failed for too many retries",
    ],
    text: "\
WITH spec AS (SELECT id FROM work_spec WHERE id = $1 FOR KEY SHARE),
locked AS (
    SELECT u.id FROM work_unit u
     WHERE u.work_spec_id = $1 AND u.active_attempt_id IS NULL
       AND (u.not_before IS NULL OR u.not_before <= $3)
       AND EXISTS (SELECT 1 FROM spec)
       AND CASE WHEN u.xmin = (SELECT w.xmin FROM work_unit w WHERE w.id = u.id)
                THEN true ELSE false END
     ORDER BY u.priority DESC, u.name
     LIMIT $5
       FOR UPDATE OF u SKIP LOCKED),
history AS (
    SELECT l.id, GREATEST($3, h.last_end) AS start_time,
           $6 > 0 AND h.previous >= $6 AS exhausted
      FROM locked l CROSS JOIN LATERAL (
           SELECT count(*) AS previous, max(p.end_time) AS last_end
             FROM attempt p WHERE p.work_unit_id = l.id) h),
made AS (
    INSERT INTO attempt (work_unit_id, work_spec_id, worker_id, status, data,
                         start_time, end_time, expiration_time, active)
    SELECT id, $1, $2,
           CASE WHEN exhausted THEN 'failed' ELSE 'pending' END::attempt_status,
           CASE WHEN exhausted THEN $7 END,
           start_time, CASE WHEN exhausted THEN start_time END,
           start_time + ($4 - $3), NOT exhausted
      FROM history
    RETURNING id, work_unit_id, active),
done AS (
    UPDATE work_unit u SET active_attempt_id = made.id
      FROM made
     WHERE u.id = made.work_unit_id
    RETURNING u.id AS unit_id, u.name, u.priority, u.data, made.id AS attempt_id,
              made.active AS pending)
SELECT unit_id, name, data, attempt_id, pending FROM done ORDER BY priority DESC, name",
};

/// [`CLAIM`] for one unit. PostgreSQL re-plans a statement whose `LIMIT`
/// is a parameter on every call, because a plan made without knowing the
/// limit looks worse than one made for it; with the limit written in, one
/// plan serves every single-unit claim, which are most claims.
pub(crate) const CLAIM_ONE: Statement = Statement {
    name: "CLAIM_ONE",
    params: &[
        "$1 = work spec id",
        "$2 = worker id",
        "$3 = now",
        "$4 = lease end",
        "$5 = most units to claim (unused: always 1)",
        "$6 = max_retries (0: no limit)",
        "$7 = data of an attempt failed for too many retries",
    ],
    text: "\
WITH spec AS (SELECT id FROM work_spec WHERE id = $1 FOR KEY SHARE),
locked AS (
    SELECT u.id FROM work_unit u
     WHERE u.work_spec_id = $1 AND u.active_attempt_id IS NULL
       AND (u.not_before IS NULL OR u.not_before <= $3)
       AND EXISTS (SELECT 1 FROM spec)
       AND CASE WHEN u.xmin = (SELECT w.xmin FROM work_unit w WHERE w.id = u.id)
                THEN true ELSE false END
     ORDER BY u.priority DESC, u.name
     LIMIT 1
       FOR UPDATE OF u SKIP LOCKED),
history AS (
    SELECT l.id, GREATEST($3, h.last_end) AS start_time,
           $6 > 0 AND h.previous >= $6 AS exhausted
      FROM locked l CROSS JOIN LATERAL (
           SELECT count(*) AS previous, max(p.end_time) AS last_end
             FROM attempt p WHERE p.work_unit_id = l.id) h),
made AS (
    INSERT INTO attempt (work_unit_id, work_spec_id, worker_id, status, data,
                         start_time, end_time, expiration_time, active)
    SELECT id, $1, $2,
           CASE WHEN exhausted THEN 'failed' ELSE 'pending' END::attempt_status,
           CASE WHEN exhausted THEN $7 END,
           start_time, CASE WHEN exhausted THEN start_time END,
           start_time + ($4 - $3), NOT exhausted
      FROM history
    RETURNING id, work_unit_id, active),
done AS (
    UPDATE work_unit u SET active_attempt_id = made.id
      FROM made
     WHERE u.id = made.work_unit_id
    RETURNING u.id AS unit_id, u.name, u.priority, u.data, made.id AS attempt_id,
              made.active AS pending)
SELECT unit_id, name, data, attempt_id, pending FROM done ORDER BY priority DESC, name",
};

/// Creates a continuous work spec's next unit, or returns the one of the
/// same name (made in the same millisecond) as it is.
pub(crate) const CONTINUOUS_UNIT: Statement = Statement {
    name: "CONTINUOUS_UNIT",
    params: &["$1 = work spec id", "$2 = unit name", "$3 = unit data"],
    text: "\
INSERT INTO work_unit (work_spec_id, name, data, priority) VALUES ($1, $2, $3, 0)
ON CONFLICT (work_spec_id, name) DO UPDATE SET name = EXCLUDED.name
RETURNING id",
};

/// Makes a pending attempt on a unit and makes it the unit's active
/// attempt; no row when the unit is gone.
pub(crate) const INSERT_ATTEMPT: Statement = Statement {
    name: "INSERT_ATTEMPT",
    params: &[
        "$1 = work unit id",
        "$2 = worker id",
        "$3 = now",
        "$4 = lease end",
    ],
    text: "\
WITH made AS (
    INSERT INTO attempt (work_unit_id, work_spec_id, worker_id, start_time, expiration_time)
    SELECT id, work_spec_id, $2, $3, $4 FROM work_unit WHERE id = $1
    RETURNING id, work_unit_id)
UPDATE work_unit SET active_attempt_id = made.id
  FROM made WHERE work_unit.id = made.work_unit_id
RETURNING made.id",
};
