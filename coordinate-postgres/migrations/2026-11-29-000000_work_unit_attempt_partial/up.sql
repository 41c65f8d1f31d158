-- work_unit_attempt finds the unit an attempt is active on (expiry, the
-- pending counts, finish). It held every unit, and queued units all have a
-- NULL active_attempt_id, so the planner could also walk it for
-- "active_attempt_id IS NULL" and filter by work spec: with a long history
-- (most units pointing at finished attempts) it took that path for the
-- scheduler's "has an available unit" probe and read the queued units of
-- every other work spec first. Without NULLs the index serves only the
-- lookups it is for, and those probes use work_unit_spec_available.
DROP INDEX work_unit_attempt;
CREATE INDEX work_unit_attempt ON work_unit (active_attempt_id)
    WHERE active_attempt_id IS NOT NULL;
