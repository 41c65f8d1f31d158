DROP INDEX work_unit_spec_available;
