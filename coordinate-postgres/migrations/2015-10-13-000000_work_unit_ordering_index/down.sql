DROP INDEX work_unit_ordering;
