-- Dependencies and workflows. See docs/design/workflows.md.
ALTER TABLE hammerwork_jobs
    ADD COLUMN depends_on           JSONB   NOT NULL DEFAULT '[]',
    ADD COLUMN dependency_status    TEXT    NOT NULL DEFAULT 'none',
    ADD COLUMN pending_dependencies INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN workflow_id          UUID,
    ADD COLUMN condition            TEXT;

-- Claimable means due, pending and not waiting on a dependency: waiting jobs
-- are not in the claim index at all, so a long chain costs claims nothing.
DROP INDEX hammerwork_jobs_ready;
CREATE INDEX hammerwork_jobs_ready
    ON hammerwork_jobs (queue_name, priority DESC, scheduled_at)
    WHERE status IN ('pending', 'retrying') AND dependency_status IN ('none', 'satisfied');

CREATE INDEX hammerwork_jobs_workflow
    ON hammerwork_jobs (workflow_id)
    WHERE workflow_id IS NOT NULL;

-- One row per dependency edge: the dependents of a finished job are an index
-- range scan, O(1) per edge, whatever the number of parents of a dependent.
CREATE TABLE hammerwork_job_dependencies (
    parent_id UUID NOT NULL,
    job_id    UUID NOT NULL,
    PRIMARY KEY (parent_id, job_id)
);
-- A job's parents (for conditions and workflow retries).
CREATE INDEX hammerwork_job_dependencies_job ON hammerwork_job_dependencies (job_id);

CREATE TABLE hammerwork_workflows (
    id             UUID        PRIMARY KEY,
    name           TEXT        NOT NULL,
    description    TEXT,
    failure_policy TEXT        NOT NULL,
    state          TEXT        NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    deadline_at    TIMESTAMPTZ,
    total_jobs     BIGINT      NOT NULL DEFAULT 0,
    pending_jobs   BIGINT      NOT NULL DEFAULT 0,
    running_jobs   BIGINT      NOT NULL DEFAULT 0,
    completed_jobs BIGINT      NOT NULL DEFAULT 0,
    failed_jobs    BIGINT      NOT NULL DEFAULT 0,
    skipped_jobs   BIGINT      NOT NULL DEFAULT 0,
    cancelled_jobs BIGINT      NOT NULL DEFAULT 0
);

CREATE INDEX hammerwork_workflows_deadline
    ON hammerwork_workflows (deadline_at)
    WHERE deadline_at IS NOT NULL AND state IN ('running', 'paused');

-- Workflow counters follow every status change of a workflow's job, in the
-- same transaction, whichever statement made it.
CREATE FUNCTION hammerwork_workflow_bucket(status TEXT) RETURNS TEXT
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE status
        WHEN 'pending' THEN 'pending' WHEN 'retrying' THEN 'pending'
        WHEN 'running' THEN 'running' WHEN 'completed' THEN 'completed'
        WHEN 'dead' THEN 'failed' WHEN 'skipped' THEN 'skipped'
        WHEN 'cancelled' THEN 'cancelled' END
$$;

CREATE FUNCTION hammerwork_count_workflow_transition() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    old_bucket TEXT := hammerwork_workflow_bucket(OLD.status);
    new_bucket TEXT := hammerwork_workflow_bucket(NEW.status);
BEGIN
    IF old_bucket IS DISTINCT FROM new_bucket THEN
        UPDATE hammerwork_workflows SET
            pending_jobs   = pending_jobs   + (new_bucket = 'pending')::int   - (old_bucket = 'pending')::int,
            running_jobs   = running_jobs   + (new_bucket = 'running')::int   - (old_bucket = 'running')::int,
            completed_jobs = completed_jobs + (new_bucket = 'completed')::int - (old_bucket = 'completed')::int,
            failed_jobs    = failed_jobs    + (new_bucket = 'failed')::int    - (old_bucket = 'failed')::int,
            skipped_jobs   = skipped_jobs   + (new_bucket = 'skipped')::int   - (old_bucket = 'skipped')::int,
            cancelled_jobs = cancelled_jobs + (new_bucket = 'cancelled')::int - (old_bucket = 'cancelled')::int
        WHERE id = NEW.workflow_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER hammerwork_jobs_workflow_counts
    AFTER UPDATE OF status ON hammerwork_jobs
    FOR EACH ROW
    WHEN (NEW.workflow_id IS NOT NULL AND OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION hammerwork_count_workflow_transition();
