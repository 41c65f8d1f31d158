-- go-coordinate 20151216-work-spec-runtime.sql: the language runtime a work
-- spec needs.
ALTER TABLE work_spec ADD COLUMN runtime VARCHAR NOT NULL DEFAULT '';
