-- Recount the unfinished dependencies of the workflow's pending jobs and of
-- the awaited spawned jobs just reset ($2). The parents read are share-locked
-- first: a parent completing concurrently is waited for and then read as
-- completed (its own release may have skipped the dependent, dead until this
-- retry), so no dependent is left counting a parent that finished.
WITH parents AS MATERIALIZED (
    SELECT d.job_id, p.status
    FROM hammerwork_jobs AS child
    JOIN hammerwork_job_dependencies AS d ON d.job_id = child.id
    JOIN hammerwork_jobs AS p ON p.id = d.parent_id
    WHERE (child.workflow_id = $1 OR child.id = ANY($2::uuid[]))
      AND child.status IN ('pending', 'retrying')
    ORDER BY p.id
    FOR SHARE OF p
)
UPDATE hammerwork_jobs AS j
SET pending_dependencies = c.open,
    dependency_status = CASE
        WHEN c.open > 0 OR j.condition IS NOT NULL THEN 'waiting'
        ELSE 'satisfied'
    END
FROM (
    SELECT job_id, COUNT(*) FILTER (WHERE status <> 'completed')::int AS open
    FROM parents
    GROUP BY job_id
) AS c
WHERE j.id = c.job_id
RETURNING j.id, j.workflow_id, j.queue_name, j.pending_dependencies, j.condition
