DROP INDEX work_unit_attempt;
CREATE INDEX work_unit_attempt ON work_unit (active_attempt_id);
