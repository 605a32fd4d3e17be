-- Dynamic spawning: one row per spawn, written in the transaction that
-- completes the parent and inserts its children. Safe to re-run.
--
-- Ids and queue names are VARBINARY, as in hammerwork_jobs (see migration 6):
-- they compare byte for byte, and joining hammerwork_jobs.spawn_operation_id
-- to id compares columns of one type, so that column's index serves it.
-- (An id is at most 255 bytes of UTF-8.)
-- parent_job_id is UNIQUE: a job spawns at most once.
CREATE TABLE IF NOT EXISTS hammerwork_spawn_operations (
    id            VARBINARY(255) NOT NULL,
    parent_job_id BINARY(16)     NOT NULL,
    queue_name    VARBINARY(255) NOT NULL,
    handler       TEXT           NOT NULL,
    child_count   BIGINT         NOT NULL,
    batch_count   BIGINT         NOT NULL,
    metadata      JSON           NULL,
    created_at    DATETIME(6)    NOT NULL,
    PRIMARY KEY (id),
    UNIQUE INDEX hammerwork_spawn_operations_parent (parent_job_id),
    INDEX hammerwork_spawn_operations_created (created_at),
    INDEX hammerwork_spawn_operations_queue (queue_name, created_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
