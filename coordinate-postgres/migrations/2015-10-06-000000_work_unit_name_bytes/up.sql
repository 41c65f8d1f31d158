-- go-coordinate 20151006-work-unit-type.sql: work unit names become byte
-- strings (existing names are taken to be UTF-8). This backend always
-- stores the UTF-8 bytes of the name, so byte order is name order.
ALTER TABLE work_unit
    ALTER COLUMN name SET DATA TYPE BYTEA USING convert_to(name, 'UTF8');
