-- Those of the jobs being pruned (locked by the caller) that no stored job
-- depends on, one row each with the spawn operation records it made:
-- delete_jobs_apply.sql then deletes exactly these. An enqueue that added an
-- edge to one of them committed before the lock (it locks its stored parents
-- first), and this statement's read view, taken after the lock, sees it:
-- that job stays.
-- Params: ids (JSON array of hex ids, sorted).
SELECT 1 AS jobs, 0 AS workflows,
       (SELECT COUNT(*) FROM hammerwork_spawn_operations AS o
        WHERE o.parent_job_id = j.id) AS spawn_operations,
       JSON_QUOTE(HEX(j.id)) AS to_apply
FROM JSON_TABLE(?, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_jobs AS j ON j.id = UNHEX(t.id)
WHERE NOT EXISTS (
    SELECT 1 FROM hammerwork_job_dependencies AS d WHERE d.parent_id = j.id
)
