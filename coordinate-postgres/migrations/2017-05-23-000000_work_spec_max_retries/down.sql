ALTER TABLE work_spec DROP COLUMN max_retries;
