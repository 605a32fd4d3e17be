-- The jobs table, in SQLite's dialect of the PostgreSQL schema.
--
-- STRICT makes SQLite reject a value of the wrong type instead of storing it.
-- Ids are UUIDs as lowercase hyphenated text: text order is the UUID's byte
-- order, so `ORDER BY id` and `id > ?` page in creation order (UUIDv7).
-- Timestamps are INTEGER microseconds since the Unix epoch (UTC): they compare
-- and sort as numbers, at the precision PostgreSQL keeps. JSON is TEXT.
CREATE TABLE hammerwork_jobs (
    id               TEXT    NOT NULL PRIMARY KEY,
    queue_name       TEXT    NOT NULL,
    payload          TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    priority         INTEGER NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    scheduled_at     INTEGER NOT NULL,
    started_at       INTEGER,
    completed_at     INTEGER,
    failed_at        INTEGER,
    lease_expires_at INTEGER,
    timeout_ms       INTEGER,
    error_message    TEXT,
    result           TEXT,
    retry_policy     TEXT,
    trace_id         TEXT,
    correlation_id   TEXT
) STRICT;

-- Claims read only this partial index: its size is the number of claimable
-- jobs, whatever the number of finished ones.
CREATE INDEX hammerwork_jobs_ready
    ON hammerwork_jobs (queue_name, priority DESC, scheduled_at)
    WHERE status IN ('pending', 'retrying');

-- The rescuer reads only running jobs.
CREATE INDEX hammerwork_jobs_lease
    ON hammerwork_jobs (lease_expires_at)
    WHERE status = 'running';

-- Listing and counting by queue and status.
CREATE INDEX hammerwork_jobs_queue_status
    ON hammerwork_jobs (queue_name, status, id);
