-- The waiting dependents of completed parents, with how many of those
-- parents each has: one edge-table range scan per parent. Locked: the
-- dependent's row lock serialises concurrent parents, and a locking read sees
-- the latest count, so exactly one of them sees it reach zero. Each row is
-- as release_dependents_apply.sql leaves it (the count left).
-- Params: parents (JSON array of hex ids, sorted).
SELECT j.id, j.workflow_id, j.queue_name, j.`condition`,
       GREATEST(j.pending_dependencies - e.n, 0) AS pending_dependencies,
       JSON_OBJECT('id', HEX(j.id), 'pending', GREATEST(j.pending_dependencies - e.n, 0)) AS to_apply
FROM (
    SELECT d.job_id, COUNT(*) AS n
    FROM JSON_TABLE(?, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
    STRAIGHT_JOIN hammerwork_job_dependencies AS d ON d.parent_id = UNHEX(t.id)
    GROUP BY d.job_id
) AS e
STRAIGHT_JOIN hammerwork_jobs AS j ON j.id = e.job_id
WHERE j.dependency_status = 'waiting' AND j.status IN ('pending', 'retrying')
ORDER BY j.id
FOR UPDATE
