ALTER TABLE work_spec DROP COLUMN runtime;
