-- Dynamic spawning, the jobs' side: one ALTER TABLE, applied atomically (see
-- migration 4; the operations table is migration 7).
--
-- A spawned job knows its parent (parent_job_id), the operation that wrote
-- it (spawn_operation_id, as hammerwork_spawn_operations.id) and its depth in
-- the spawn tree (0 for a job nobody spawned). Operation ids are VARBINARY,
-- like queue names, so they compare byte for byte as on PostgreSQL (a _bin
-- collation would still ignore trailing spaces, and no NO PAD binary
-- collation exists on both MySQL 8 and MariaDB). Trees and lineage are
-- recursive walks over parent_job_id; spawn_stats finds an operation's
-- children by spawn_operation_id. MySQL has no partial index, so both indexes
-- also hold the (NULL) entries of jobs nobody spawned.
ALTER TABLE hammerwork_jobs
    ADD COLUMN parent_job_id      BINARY(16)     NULL,
    ADD COLUMN spawn_operation_id VARBINARY(255) NULL,
    ADD COLUMN spawn_depth        INT            NOT NULL DEFAULT 0,
    ADD INDEX hammerwork_jobs_parent (parent_job_id),
    ADD INDEX hammerwork_jobs_spawn_operation (spawn_operation_id);
