-- Counts completed parents off their dependents, by primary key. The
-- dependent's row lock serialises concurrent parents, so exactly one of them
-- sees its count reach zero. Jobs with a condition stay 'waiting' at zero
-- until the caller has evaluated it.
UPDATE hammerwork_jobs AS j
SET pending_dependencies = j.pending_dependencies - e.n,
    dependency_status = CASE
        WHEN j.pending_dependencies - e.n <= 0 AND j.condition IS NULL THEN 'satisfied'
        ELSE j.dependency_status
    END
FROM UNNEST($1::uuid[], $2::int[]) AS e(job_id, n)
WHERE j.id = e.job_id AND j.dependency_status = 'waiting' AND j.status IN ('pending', 'retrying')
RETURNING j.id, j.workflow_id, j.queue_name, j.pending_dependencies, j.condition
