-- go-coordinate 20151028-index.sql: attempts by status and expiry, attempts
-- by worker, units by active attempt.
CREATE INDEX attempt_status_expiration ON attempt (status, expiration_time);
CREATE INDEX attempt_worker ON attempt (worker_id);
CREATE INDEX work_unit_attempt ON work_unit (active_attempt_id);
