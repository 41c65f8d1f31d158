//! The pgbench scripts. Variables: `:spec` and `:worker` (ids) and `:ns`
//! (the namespace id), set with `-D`.

/// The yardstick: the least SQL that claims the best available unit of a
/// spec safely under concurrency and records an attempt (one
/// transaction), then finishes that attempt (a second transaction).
pub const CLAIM_FINISH: &str = "\
BEGIN;
SELECT id AS unit_id FROM work_unit
 WHERE work_spec_id = :spec AND active_attempt_id IS NULL
   AND (not_before IS NULL OR not_before <= now())
 ORDER BY priority DESC, name LIMIT 1
   FOR UPDATE SKIP LOCKED \\gset
INSERT INTO attempt (work_unit_id, work_spec_id, worker_id, status, start_time,
                     expiration_time, active)
VALUES (:unit_id, :spec, :worker, 'pending', now(), now() + interval '15 minutes', true)
RETURNING id AS attempt_id \\gset
UPDATE work_unit SET active_attempt_id = :attempt_id WHERE id = :unit_id;
COMMIT;
UPDATE attempt SET status = 'finished', end_time = now(), active = false
 WHERE id = :attempt_id;
";

/// The batched yardstick (issue 23's `ref/b100`): the least SQL that
/// claims the best 100 available units (`FOR UPDATE SKIP LOCKED`),
/// inserts their attempts and points the units at them, in one
/// autocommitted statement; then one statement finishes the 100. No
/// scheduler read, no expiry, no history or row-version check, no
/// chaining, empty data: a floor, not the same work.
pub const CLAIM_FINISH_100: &str = "\
WITH locked AS (
    SELECT id FROM work_unit
     WHERE work_spec_id = :spec AND active_attempt_id IS NULL
       AND (not_before IS NULL OR not_before <= now())
     ORDER BY priority DESC, name LIMIT 100
       FOR UPDATE SKIP LOCKED),
made AS (
    INSERT INTO attempt (work_unit_id, work_spec_id, worker_id, status, start_time,
                         expiration_time, active)
    SELECT id, :spec, :worker, 'pending', now(), now() + interval '15 minutes', true
      FROM locked
    RETURNING id, work_unit_id),
pointed AS (
    UPDATE work_unit u SET active_attempt_id = made.id
      FROM made WHERE u.id = made.work_unit_id
    RETURNING made.id)
SELECT coalesce(array_agg(id), '{}') AS attempt_ids FROM pointed \\gset
UPDATE attempt SET status = 'finished', end_time = now(), active = false
 WHERE id = ANY (:attempt_ids::int[]);
";

/// go-coordinate's PostgreSQL backend replayed statement by statement for
/// one unit (`RequestAttempts` with one unit, then `Finish(nil)`): global
/// expiry; the namespace's work spec metas, pending counts and
/// available flags in one read transaction; the claim under a
/// transaction-level advisory lock on the spec; marking the attempt
/// finished; the chaining lookup `Finish` makes when it has no data.
pub const GO_COORDINATE: &str = "\
UPDATE work_unit SET active_attempt_id = NULL
 WHERE active_attempt_id IN (SELECT id FROM attempt
                              WHERE status = 'pending' AND expiration_time < now());
BEGIN;
SELECT id, name, priority, weight, paused, continuous, can_be_continuous, min_memory_gb,
       interval, next_continuous, max_running, max_attempts_returned, max_retries,
       next_work_spec_name, runtime
  FROM work_spec WHERE namespace_id = :ns;
SELECT work_spec.name, count(*) FROM work_spec, attempt
 WHERE work_spec.namespace_id = :ns AND attempt.work_spec_id = work_spec.id
   AND attempt.status = 'pending'
 GROUP BY work_spec.name;
SELECT work_spec.name FROM work_spec
 WHERE work_spec.namespace_id = :ns
   AND work_spec.id IN (SELECT work_spec_id FROM work_unit
                         WHERE active_attempt_id IS NULL
                           AND NOT (not_before IS NOT NULL AND now() < not_before));
COMMIT;
BEGIN;
SELECT pg_advisory_xact_lock(0, :spec);
WITH u AS (SELECT id, name FROM work_unit
            WHERE work_spec_id = :spec AND active_attempt_id IS NULL
              AND NOT (not_before IS NOT NULL AND now() < not_before)
            ORDER BY priority DESC, name ASC LIMIT 1),
     a AS (INSERT INTO attempt (work_unit_id, work_spec_id, worker_id, start_time,
                                expiration_time)
           SELECT id, :spec, :worker, now(), now() + interval '15 minutes' FROM u
           RETURNING id, work_unit_id)
UPDATE work_unit SET active_attempt_id = a.id FROM a, u
 WHERE work_unit.id = u.id AND a.work_unit_id = u.id
RETURNING u.id AS unit_id, a.id AS attempt_id \\gset
COMMIT;
UPDATE attempt SET active = FALSE, status = 'finished', end_time = now()
 WHERE id = :attempt_id;
SELECT next.id, next.name, work_unit.data, attempt.data
  FROM work_unit
  JOIN attempt ON attempt.id = work_unit.active_attempt_id
  JOIN work_spec ON work_spec.id = work_unit.work_spec_id
  JOIN work_spec next ON next.name = work_spec.next_work_spec_name
                     AND next.namespace_id = work_spec.namespace_id
 WHERE work_unit.id = :unit_id AND work_unit.active_attempt_id = :attempt_id;
";
