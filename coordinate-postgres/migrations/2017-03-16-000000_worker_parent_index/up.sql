-- go-coordinate 20170316-index.sql: workers by parent.
CREATE INDEX worker_parent_idx ON worker (parent);
