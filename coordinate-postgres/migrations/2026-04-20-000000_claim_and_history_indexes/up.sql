-- Indexes this backend adds to go-coordinate's schema. Each one keeps a hot
-- query's cost tied to the work that is waiting or running, never to the
-- number of finished units or old attempts.
--
-- No fillfactor is set on work_unit or attempt: every hot update there
-- changes an indexed column (work_unit.active_attempt_id, attempt.status and
-- attempt.active appear in index keys or predicates), so PostgreSQL cannot
-- make those updates HOT and free space kept in the pages would go unused.

-- Claiming (worker.request_attempts): "the next available units of one work
-- spec, best first", i.e.
--   SELECT ... FROM work_unit WHERE work_spec_id = $1
--      AND active_attempt_id IS NULL AND <not before passed>
--    ORDER BY priority DESC, name LIMIT $n FOR UPDATE SKIP LOCKED
-- and the scheduler's "does this work spec have an available unit" EXISTS
-- probe. go-coordinate's work_unit_ordering lacks the work spec column, so
-- it walks the available units of every work spec.
CREATE INDEX work_unit_claim ON work_unit (work_spec_id, priority DESC, name)
    WHERE active_attempt_id IS NULL;

-- Pending attempts per work spec: the scheduler's pending counts, meta(true)
-- and max_running checks (count by work_spec_id), and expiry of overdue
-- attempts in one namespace (work_spec_id = ANY(...) AND expiration_time <
-- $now). Only live attempts are in it, so it stays small however long the
-- history grows.
CREATE INDEX attempt_pending ON attempt (work_spec_id, expiration_time)
    WHERE status = 'pending';

-- A worker's active attempts (worker.active_attempts, worker.child_attempts)
-- without reading the worker's whole history.
CREATE INDEX attempt_worker_active ON attempt (worker_id) WHERE active;
