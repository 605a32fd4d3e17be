-- Every transitive dependent of ?1 (a JSON array of ids) that has not started
-- ends as ?2 ('dead', 'skipped' or 'cancelled'), with its dependency marked
-- failed; returns the ended jobs with their workflow. The recursion walks the
-- edge table's primary key.
WITH RECURSIVE down(id) AS (
    SELECT job_id
    FROM hammerwork_job_dependencies
    WHERE parent_id IN (SELECT value FROM json_each(?1))
    UNION
    SELECT d.job_id FROM hammerwork_job_dependencies AS d JOIN down ON d.parent_id = down.id
)
UPDATE hammerwork_jobs
SET status = ?2,
    dependency_status = 'failed',
    error_message = ?3,
    completed_at = ?4,
    lease_expires_at = NULL
WHERE id IN (SELECT id FROM down) AND status IN ('pending', 'retrying')
RETURNING id, status, workflow_id
