DROP INDEX work_unit_attempt;
DROP INDEX attempt_worker;
DROP INDEX attempt_status_expiration;
