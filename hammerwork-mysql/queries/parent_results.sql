-- The parents' results of these jobs, through the edge table.
-- Params: jobs (JSON array of hex ids).
SELECT d.job_id, p.result
FROM JSON_TABLE(?, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_job_dependencies AS d ON d.job_id = UNHEX(t.id)
STRAIGHT_JOIN hammerwork_jobs AS p ON p.id = d.parent_id
WHERE p.result IS NOT NULL
ORDER BY d.job_id, p.id
