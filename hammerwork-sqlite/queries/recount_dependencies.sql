-- Recount the unfinished dependencies of the workflow's pending jobs and of
-- the awaited spawned jobs just reset (?2: a JSON array of ids), reading each
-- job's parents through the edge table's job_id index. A job with a condition
-- stays 'waiting' at zero until the caller has evaluated it. Returns every
-- job recounted.
UPDATE hammerwork_jobs AS j
SET pending_dependencies = c.open,
    dependency_status = CASE
        WHEN c.open > 0 OR j.condition IS NOT NULL THEN 'waiting'
        ELSE 'satisfied'
    END
FROM (
    SELECT d.job_id, COUNT(CASE WHEN p.status <> 'completed' THEN 1 END) AS open
    FROM hammerwork_jobs AS child
    JOIN hammerwork_job_dependencies AS d ON d.job_id = child.id
    JOIN hammerwork_jobs AS p ON p.id = d.parent_id
    WHERE child.id IN (
        SELECT id FROM hammerwork_jobs
        WHERE workflow_id = ?1 AND status IN ('pending', 'retrying')
        UNION
        SELECT value FROM json_each(?2)
    )
      AND child.status IN ('pending', 'retrying')
    GROUP BY d.job_id
) AS c
WHERE j.id = c.job_id
RETURNING id, workflow_id, queue_name, pending_dependencies, condition
