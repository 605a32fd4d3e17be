-- Failed and cancelled jobs of the workflow start over, and so do the failed
-- and cancelled spawned jobs outside it that one of its jobs awaits (their
-- edges were grafted onto it, see graft_children.sql). Each branch is an
-- index lookup: by workflow, then by edge.
WITH targets AS (
    SELECT id, status FROM hammerwork_jobs
    WHERE workflow_id = $1 AND status IN ('dead', 'cancelled')
    UNION
    SELECT p.id, p.status FROM hammerwork_jobs AS w
    JOIN hammerwork_job_dependencies AS d ON d.job_id = w.id
    JOIN hammerwork_jobs AS p ON p.id = d.parent_id
    WHERE w.workflow_id = $1
      AND p.workflow_id IS NULL AND p.parent_job_id IS NOT NULL
      AND p.status IN ('dead', 'cancelled')
)
UPDATE hammerwork_jobs AS j
SET status = 'pending',
    attempts = 0,
    error_message = NULL,
    failed_at = NULL,
    completed_at = NULL,
    lease_expires_at = NULL,
    scheduled_at = $2
FROM targets
WHERE j.id = targets.id AND j.status IN ('dead', 'cancelled')
RETURNING j.id, j.queue_name, j.workflow_id, targets.status AS previous
