-- go-coordinate 20170523-work-unit-max-retries.sql: attempts a unit gets
-- before it is failed.
ALTER TABLE work_spec ADD COLUMN max_retries INTEGER NOT NULL DEFAULT 0;
