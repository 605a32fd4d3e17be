-- Dynamic spawning, in SQLite's dialect of the PostgreSQL migration: a child
-- knows its parent, its operation and its depth; trees and lineage are
-- recursive walks over parent_job_id (indexed). Ids are TEXT like every id.
ALTER TABLE hammerwork_jobs ADD COLUMN parent_job_id TEXT;
ALTER TABLE hammerwork_jobs ADD COLUMN spawn_operation_id TEXT;
ALTER TABLE hammerwork_jobs ADD COLUMN spawn_depth INTEGER NOT NULL DEFAULT 0;

CREATE INDEX hammerwork_jobs_parent
    ON hammerwork_jobs (parent_job_id)
    WHERE parent_job_id IS NOT NULL;
CREATE INDEX hammerwork_jobs_spawn_operation
    ON hammerwork_jobs (spawn_operation_id)
    WHERE spawn_operation_id IS NOT NULL;

-- One row per spawn, written with the parent's completion and its children.
-- metadata is JSON text; created_at is microseconds since the Unix epoch.
CREATE TABLE hammerwork_spawn_operations (
    id            TEXT    NOT NULL PRIMARY KEY,
    parent_job_id TEXT    NOT NULL UNIQUE,
    queue_name    TEXT    NOT NULL,
    handler       TEXT    NOT NULL,
    child_count   INTEGER NOT NULL,
    batch_count   INTEGER NOT NULL,
    metadata      TEXT,
    created_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX hammerwork_spawn_operations_created
    ON hammerwork_spawn_operations (created_at);
CREATE INDEX hammerwork_spawn_operations_queue
    ON hammerwork_spawn_operations (queue_name, created_at);
