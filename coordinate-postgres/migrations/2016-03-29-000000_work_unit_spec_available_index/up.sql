-- go-coordinate 20160329-index.sql: units without an active attempt, by
-- work spec.
CREATE INDEX work_unit_spec_available ON work_unit (work_spec_id)
    WHERE active_attempt_id IS NULL;
