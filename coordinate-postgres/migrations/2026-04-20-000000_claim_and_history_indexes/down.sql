DROP INDEX attempt_worker_active;
DROP INDEX attempt_pending;
DROP INDEX work_unit_claim;
