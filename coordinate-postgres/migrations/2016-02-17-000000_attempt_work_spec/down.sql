ALTER TABLE attempt DROP COLUMN work_spec_id;
