ALTER TABLE work_unit
    ALTER COLUMN name SET DATA TYPE VARCHAR USING convert_from(name, 'UTF8');
