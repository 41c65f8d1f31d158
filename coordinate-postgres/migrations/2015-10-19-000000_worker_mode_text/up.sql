-- go-coordinate 20151019-worker-mode.sql: a worker's mode becomes free text;
-- old numeric modes are not carried over.
ALTER TABLE worker ALTER COLUMN mode SET DATA TYPE VARCHAR USING '';
