DROP INDEX attempt_work_unit;
