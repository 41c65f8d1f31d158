DROP INDEX worker_parent_idx;
