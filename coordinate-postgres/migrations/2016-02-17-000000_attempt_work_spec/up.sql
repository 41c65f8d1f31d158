-- go-coordinate 20160217-attempt-spec.sql: attempts also name their work
-- spec, so pending work can be counted per work spec without a join.
ALTER TABLE attempt
    ADD COLUMN work_spec_id INTEGER REFERENCES work_spec (id) ON DELETE CASCADE;

UPDATE attempt
   SET work_spec_id = work_unit.work_spec_id
  FROM work_unit
 WHERE work_unit.id = attempt.work_unit_id;

ALTER TABLE attempt ALTER COLUMN work_spec_id SET NOT NULL;
