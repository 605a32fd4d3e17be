-- Cancel every unfinished job of these workflows, and the unfinished spawned
-- jobs outside them that one of their jobs awaits (grafted edges). Each
-- branch is an index lookup: by workflow, then by edge.
WITH targets AS (
    SELECT id FROM hammerwork_jobs
    WHERE workflow_id = ANY($1::uuid[]) AND status IN ('pending', 'retrying', 'running')
    UNION
    SELECT p.id FROM hammerwork_jobs AS w
    JOIN hammerwork_job_dependencies AS d ON d.job_id = w.id
    JOIN hammerwork_jobs AS p ON p.id = d.parent_id
    WHERE w.workflow_id = ANY($1::uuid[])
      AND p.workflow_id IS NULL AND p.parent_job_id IS NOT NULL
      AND p.status IN ('pending', 'retrying', 'running')
)
UPDATE hammerwork_jobs AS j
SET status = 'cancelled',
    error_message = $2,
    completed_at = $3,
    lease_expires_at = NULL
FROM targets
WHERE j.id = targets.id AND j.status IN ('pending', 'retrying', 'running')
RETURNING j.id, j.status, j.workflow_id
