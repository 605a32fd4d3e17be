-- Cancels every unfinished job of these workflows (?1: a JSON array of ids),
-- and the unfinished spawned jobs outside them that one of their jobs awaits
-- (grafted as its parents, see graft_children.sql); returns their ids, whose
-- dependents the caller then cancels. Each branch is an index lookup: by
-- workflow, then the workflow job's parents through the edge table's job_id
-- index.
UPDATE hammerwork_jobs
SET status = 'cancelled',
    error_message = ?2,
    completed_at = ?3,
    lease_expires_at = NULL
WHERE id IN (
    SELECT id FROM hammerwork_jobs
    WHERE workflow_id IN (SELECT value FROM json_each(?1))
      AND status IN ('pending', 'retrying', 'running')
    UNION
    SELECT p.id FROM hammerwork_jobs AS w
    JOIN hammerwork_job_dependencies AS d ON d.job_id = w.id
    JOIN hammerwork_jobs AS p ON p.id = d.parent_id
    WHERE w.workflow_id IN (SELECT value FROM json_each(?1))
      AND p.workflow_id IS NULL AND p.parent_job_id IS NOT NULL
      AND p.status IN ('pending', 'retrying', 'running')
)
RETURNING id, status, workflow_id
