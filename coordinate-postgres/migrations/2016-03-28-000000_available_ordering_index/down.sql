DROP INDEX work_unit_ordering;
CREATE INDEX work_unit_ordering ON work_unit (priority DESC, name ASC);
CREATE INDEX work_unit_spec_attempt ON work_unit (work_spec_id, active_attempt_id);
