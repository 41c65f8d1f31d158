DROP INDEX work_unit_spec_attempt;
DROP INDEX work_unit_spec;
