-- go-coordinate 20160125-index.sql: attempts by work unit, so that deleting
-- units (which cascades to their attempts) does not scan every attempt.
CREATE INDEX attempt_work_unit ON attempt (work_unit_id);
