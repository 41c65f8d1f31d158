-- go-coordinate 20151014-index.sql: units by work spec, and by work spec and
-- active attempt.
CREATE INDEX work_unit_spec ON work_unit (work_spec_id);
CREATE INDEX work_unit_spec_attempt ON work_unit (work_spec_id, active_attempt_id);
