-- Counts completed parents (?1: a JSON array of ids) off their dependents:
-- one edge-table range scan per parent. SQLite has one writer, so exactly one
-- settlement sees a count reach zero. Jobs with a condition stay 'waiting' at
-- zero until the caller has evaluated it.
WITH edges AS (
    SELECT job_id, COUNT(*) AS n
    FROM hammerwork_job_dependencies
    WHERE parent_id IN (SELECT value FROM json_each(?1))
    GROUP BY job_id
)
UPDATE hammerwork_jobs AS j
SET pending_dependencies = j.pending_dependencies - e.n,
    dependency_status = CASE
        WHEN j.pending_dependencies - e.n <= 0 AND j.condition IS NULL THEN 'satisfied'
        ELSE j.dependency_status
    END
FROM edges AS e
WHERE j.id = e.job_id AND j.dependency_status = 'waiting' AND j.status IN ('pending', 'retrying')
RETURNING id, workflow_id, queue_name, pending_dependencies, condition
