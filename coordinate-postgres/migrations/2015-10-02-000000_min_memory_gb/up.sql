-- go-coordinate 20151002-mingb.sql: memory a work spec needs.
ALTER TABLE work_spec ADD COLUMN min_memory_gb DOUBLE PRECISION NOT NULL DEFAULT 0;
