-- go-coordinate 20160328-index.sql: the ordering index only covers units
-- without an active attempt, and the (work spec, attempt) index goes away.
DROP INDEX work_unit_ordering;
CREATE INDEX work_unit_ordering ON work_unit (priority DESC, name ASC)
    WHERE active_attempt_id IS NULL;
DROP INDEX work_unit_spec_attempt;
