ALTER TABLE work_spec DROP COLUMN min_memory_gb;
