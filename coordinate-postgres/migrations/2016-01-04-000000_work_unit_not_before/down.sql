ALTER TABLE work_unit DROP COLUMN not_before;
