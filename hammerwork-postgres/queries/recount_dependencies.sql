-- Recount the unfinished dependencies of the workflow's pending jobs and of
-- the awaited spawned jobs just reset ($2).
UPDATE hammerwork_jobs AS j
SET pending_dependencies = c.open,
    dependency_status = CASE WHEN c.open > 0 THEN 'waiting' ELSE 'satisfied' END
FROM (
    SELECT d.job_id, COUNT(*) FILTER (WHERE p.status <> 'completed')::int AS open
    FROM hammerwork_jobs AS child
    JOIN hammerwork_job_dependencies AS d ON d.job_id = child.id
    JOIN hammerwork_jobs AS p ON p.id = d.parent_id
    WHERE (child.workflow_id = $1 OR child.id = ANY($2::uuid[]))
      AND child.status IN ('pending', 'retrying')
    GROUP BY d.job_id
) AS c
WHERE j.id = c.job_id
RETURNING j.queue_name
