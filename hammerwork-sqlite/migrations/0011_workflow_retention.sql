-- Retention of whole workflows (Storage::prune): when a workflow finished
-- (every job final, microseconds), stamped by the engine in the transaction
-- that ended its last job, cleared by a retry. Pruning reads the partial
-- index oldest first. Workflows already finished get the time their last
-- job ended.
ALTER TABLE hammerwork_workflows ADD COLUMN finished_at INTEGER;
UPDATE hammerwork_workflows
SET finished_at = (SELECT MAX(COALESCE(j.completed_at, j.failed_at))
                   FROM hammerwork_jobs AS j WHERE j.workflow_id = hammerwork_workflows.id)
WHERE total_jobs = completed_jobs + failed_jobs + skipped_jobs + cancelled_jobs;
CREATE INDEX hammerwork_workflows_finished
    ON hammerwork_workflows (finished_at)
    WHERE finished_at IS NOT NULL;
