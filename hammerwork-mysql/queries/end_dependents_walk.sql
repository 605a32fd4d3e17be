-- Every transitive dependent of these jobs that has not started yet.
-- Params: parents (JSON array of hex ids).
WITH RECURSIVE down (id) AS (
    SELECT d.job_id
    FROM JSON_TABLE(?, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
    STRAIGHT_JOIN hammerwork_job_dependencies AS d ON d.parent_id = UNHEX(t.id)
    UNION
    SELECT d.job_id
    FROM down
    JOIN hammerwork_job_dependencies AS d ON d.parent_id = down.id
)
SELECT j.id
FROM down
JOIN hammerwork_jobs AS j ON j.id = down.id
WHERE j.status IN ('pending', 'retrying')
ORDER BY j.id
