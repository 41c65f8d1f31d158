-- go-coordinate 20160104-not-before.sql: a unit is delayed until this time.
ALTER TABLE work_unit ADD COLUMN not_before TIMESTAMP WITH TIME ZONE;
