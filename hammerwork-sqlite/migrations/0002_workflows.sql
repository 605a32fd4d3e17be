-- Dependencies and workflows, in SQLite's dialect of the PostgreSQL
-- migration. See docs/design/workflows.md.
--
-- depends_on is the JSON array of parent ids (TEXT), kept for reading and for
-- looking up a job's parents; the edge table below finds a job's dependents.
ALTER TABLE hammerwork_jobs ADD COLUMN depends_on TEXT NOT NULL DEFAULT '[]';
ALTER TABLE hammerwork_jobs ADD COLUMN dependency_status TEXT NOT NULL DEFAULT 'none';
ALTER TABLE hammerwork_jobs ADD COLUMN pending_dependencies INTEGER NOT NULL DEFAULT 0;
ALTER TABLE hammerwork_jobs ADD COLUMN workflow_id TEXT;
ALTER TABLE hammerwork_jobs ADD COLUMN condition TEXT;

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
    parent_id TEXT NOT NULL,
    job_id    TEXT NOT NULL,
    PRIMARY KEY (parent_id, job_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE hammerwork_workflows (
    id             TEXT    NOT NULL PRIMARY KEY,
    name           TEXT    NOT NULL,
    description    TEXT,
    failure_policy TEXT    NOT NULL,
    state          TEXT    NOT NULL,
    created_at     INTEGER NOT NULL, -- microseconds since the Unix epoch
    deadline_at    INTEGER,
    total_jobs     INTEGER NOT NULL DEFAULT 0,
    pending_jobs   INTEGER NOT NULL DEFAULT 0,
    running_jobs   INTEGER NOT NULL DEFAULT 0,
    completed_jobs INTEGER NOT NULL DEFAULT 0,
    failed_jobs    INTEGER NOT NULL DEFAULT 0,
    skipped_jobs   INTEGER NOT NULL DEFAULT 0,
    cancelled_jobs INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX hammerwork_workflows_deadline
    ON hammerwork_workflows (deadline_at)
    WHERE deadline_at IS NOT NULL AND state IN ('running', 'paused');

-- Workflow counters follow every status change of a workflow's job, in the
-- same transaction, whichever statement made it. Buckets: pending and
-- retrying count as pending, dead as failed. A comparison is 0 or 1.
CREATE TRIGGER hammerwork_jobs_workflow_counts
    AFTER UPDATE OF status ON hammerwork_jobs
    FOR EACH ROW
    WHEN NEW.workflow_id IS NOT NULL AND OLD.status <> NEW.status
BEGIN
    UPDATE hammerwork_workflows SET
        pending_jobs   = pending_jobs
            + (NEW.status IN ('pending', 'retrying')) - (OLD.status IN ('pending', 'retrying')),
        running_jobs   = running_jobs   + (NEW.status = 'running')   - (OLD.status = 'running'),
        completed_jobs = completed_jobs + (NEW.status = 'completed') - (OLD.status = 'completed'),
        failed_jobs    = failed_jobs    + (NEW.status = 'dead')      - (OLD.status = 'dead'),
        skipped_jobs   = skipped_jobs   + (NEW.status = 'skipped')   - (OLD.status = 'skipped'),
        cancelled_jobs = cancelled_jobs + (NEW.status = 'cancelled') - (OLD.status = 'cancelled')
    WHERE id = NEW.workflow_id;
END;
