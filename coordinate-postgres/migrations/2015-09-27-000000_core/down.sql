-- Removes everything the core migration created, children before parents.
ALTER TABLE work_unit DROP CONSTRAINT work_unit_active_attempt_valid;
DROP TABLE attempt;
DROP TYPE attempt_status;
DROP TABLE worker;
DROP TABLE work_unit;
DROP TABLE work_spec;
DROP TABLE namespace;
