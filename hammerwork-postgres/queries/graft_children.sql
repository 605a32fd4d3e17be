-- A parent that awaits its children: every dependent of $1 still waiting
-- gets the children $2 as dependencies too (edges and pending count; its
-- depends_on keeps what was declared), so it is released only when they have
-- finished as well.
WITH held AS (
    SELECT j.id FROM hammerwork_job_dependencies AS d
    JOIN hammerwork_jobs AS j ON j.id = d.job_id
    WHERE d.parent_id = $1
      AND j.status IN ('pending', 'retrying')
      AND j.dependency_status = 'waiting'
    ORDER BY j.id
    FOR UPDATE OF j
), edges AS (
    INSERT INTO hammerwork_job_dependencies (parent_id, job_id)
    SELECT c, held.id FROM held CROSS JOIN UNNEST($2::uuid[]) AS c
)
UPDATE hammerwork_jobs AS j
SET pending_dependencies = j.pending_dependencies + cardinality($2::uuid[])
FROM held
WHERE j.id = held.id
RETURNING j.id
