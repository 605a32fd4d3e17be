-- Every transitive dependent of $1 that has not started ends as $2 ('dead',
-- 'skipped' or 'cancelled'), with its dependency marked failed.
WITH RECURSIVE down(id) AS (
    SELECT job_id FROM hammerwork_job_dependencies WHERE parent_id = ANY($1::uuid[])
    UNION
    SELECT d.job_id FROM hammerwork_job_dependencies AS d JOIN down ON d.parent_id = down.id
)
UPDATE hammerwork_jobs AS j
SET status = $2,
    dependency_status = 'failed',
    error_message = $3,
    completed_at = $4,
    lease_expires_at = NULL
FROM down
WHERE j.id = down.id AND j.status IN ('pending', 'retrying')
RETURNING j.id, j.status, j.workflow_id
