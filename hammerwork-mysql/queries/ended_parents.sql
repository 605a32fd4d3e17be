-- The parents of the jobs ? (a JSON array of hex ids) that ended without
-- completing, each once; edges by primary key.
-- Params: jobs.
SELECT DISTINCT p.id, p.workflow_id, p.status
FROM JSON_TABLE(?, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_job_dependencies AS d ON d.job_id = UNHEX(t.id)
STRAIGHT_JOIN hammerwork_jobs AS p ON p.id = d.parent_id
WHERE p.status IN ('skipped', 'dead', 'cancelled')
ORDER BY p.id
