-- The edge table and workflows. Every statement is safe to re-run (MySQL
-- commits DDL as it goes).
--
-- One row per dependency edge: the dependents of a finished job are one
-- primary-key range scan, O(1) per edge; the parents of a job (for
-- conditions and recounts) use the job_id index.
CREATE TABLE IF NOT EXISTS hammerwork_job_dependencies (
    parent_id BINARY(16) NOT NULL,
    job_id    BINARY(16) NOT NULL,
    PRIMARY KEY (parent_id, job_id),
    INDEX hammerwork_job_dependencies_job (job_id)
) ENGINE = InnoDB;

CREATE TABLE IF NOT EXISTS hammerwork_workflows (
    id             BINARY(16)  NOT NULL,
    name           TEXT        NOT NULL,
    description    TEXT        NULL,
    failure_policy VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    state          VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    created_at     DATETIME(6) NOT NULL,
    deadline_at    DATETIME(6) NULL,
    total_jobs     BIGINT      NOT NULL DEFAULT 0,
    pending_jobs   BIGINT      NOT NULL DEFAULT 0,
    running_jobs   BIGINT      NOT NULL DEFAULT 0,
    completed_jobs BIGINT      NOT NULL DEFAULT 0,
    failed_jobs    BIGINT      NOT NULL DEFAULT 0,
    skipped_jobs   BIGINT      NOT NULL DEFAULT 0,
    cancelled_jobs BIGINT      NOT NULL DEFAULT 0,
    PRIMARY KEY (id),
    INDEX hammerwork_workflows_deadline (deadline_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- Workflow counters follow every status change of a workflow's job, in the
-- same transaction, whichever statement made it. (So no statement that
-- updates hammerwork_jobs may read hammerwork_workflows: MySQL forbids a
-- trigger to change a table its statement uses.)
DROP TRIGGER IF EXISTS hammerwork_jobs_workflow_counts;

CREATE TRIGGER hammerwork_jobs_workflow_counts
AFTER UPDATE ON hammerwork_jobs
FOR EACH ROW
BEGIN
    DECLARE old_bucket VARCHAR(16);
    DECLARE new_bucket VARCHAR(16);
    IF NEW.workflow_id IS NOT NULL AND NOT (OLD.status <=> NEW.status) THEN
        SET old_bucket = CASE OLD.status
            WHEN 'pending' THEN 'pending' WHEN 'retrying' THEN 'pending'
            WHEN 'running' THEN 'running' WHEN 'completed' THEN 'completed'
            WHEN 'dead' THEN 'failed' WHEN 'skipped' THEN 'skipped'
            WHEN 'cancelled' THEN 'cancelled' END;
        SET new_bucket = CASE NEW.status
            WHEN 'pending' THEN 'pending' WHEN 'retrying' THEN 'pending'
            WHEN 'running' THEN 'running' WHEN 'completed' THEN 'completed'
            WHEN 'dead' THEN 'failed' WHEN 'skipped' THEN 'skipped'
            WHEN 'cancelled' THEN 'cancelled' END;
        IF NOT (old_bucket <=> new_bucket) THEN
            UPDATE hammerwork_workflows SET
                pending_jobs   = pending_jobs   + (new_bucket = 'pending')   - (old_bucket = 'pending'),
                running_jobs   = running_jobs   + (new_bucket = 'running')   - (old_bucket = 'running'),
                completed_jobs = completed_jobs + (new_bucket = 'completed') - (old_bucket = 'completed'),
                failed_jobs    = failed_jobs    + (new_bucket = 'failed')    - (old_bucket = 'failed'),
                skipped_jobs   = skipped_jobs   + (new_bucket = 'skipped')   - (old_bucket = 'skipped'),
                cancelled_jobs = cancelled_jobs + (new_bucket = 'cancelled') - (old_bucket = 'cancelled')
            WHERE id = NEW.workflow_id;
        END IF;
    END IF;
END;
