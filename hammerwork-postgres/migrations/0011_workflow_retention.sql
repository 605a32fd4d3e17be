-- Retention of whole workflows (Storage::prune): when a workflow finished
-- (every job final), stamped by the engine in the transaction that ended
-- its last job, cleared by a retry. Pruning reads the partial index oldest
-- first. Workflows already finished get the time their last job ended.
ALTER TABLE hammerwork_workflows ADD COLUMN finished_at TIMESTAMPTZ;
UPDATE hammerwork_workflows AS w
SET finished_at = (SELECT MAX(COALESCE(j.completed_at, j.failed_at))
                   FROM hammerwork_jobs AS j WHERE j.workflow_id = w.id)
WHERE w.total_jobs = w.completed_jobs + w.failed_jobs + w.skipped_jobs + w.cancelled_jobs;
CREATE INDEX hammerwork_workflows_finished
    ON hammerwork_workflows (finished_at)
    WHERE finished_at IS NOT NULL;
