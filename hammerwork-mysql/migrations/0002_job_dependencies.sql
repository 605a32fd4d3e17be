-- Dependencies: one ALTER TABLE, which InnoDB applies atomically (MySQL 8 has
-- no ADD COLUMN IF NOT EXISTS, so this migration holds this one change only).
--
-- depends_on is the JSON array of parent ids as given (NULL for none);
-- has_dependents is set on a job once some job depends on it, so settling a
-- job nobody depends on never reads the edge table. Waiting jobs leave the
-- claim index: ready_queue is now NULL unless the job is pending or retrying
-- AND its dependencies allow it to run.
ALTER TABLE hammerwork_jobs
    ADD COLUMN depends_on           JSON       NULL,
    ADD COLUMN dependency_status    VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT 'none',
    ADD COLUMN pending_dependencies INT        NOT NULL DEFAULT 0,
    ADD COLUMN workflow_id          BINARY(16) NULL,
    ADD COLUMN `condition`          TEXT       NULL,
    ADD COLUMN has_dependents       TINYINT    NOT NULL DEFAULT 0,
    MODIFY COLUMN ready_queue VARBINARY(255) GENERATED ALWAYS AS (
        CASE WHEN status IN ('pending', 'retrying')
              AND dependency_status IN ('none', 'satisfied')
             THEN queue_name END
    ) STORED,
    ADD INDEX hammerwork_jobs_workflow (workflow_id);
