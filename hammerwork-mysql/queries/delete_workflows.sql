-- The jobs of workflows being pruned, locked in id order, one row each with
-- the spawn operation records it made; then the workflow rows, one each
-- (delete_workflows_apply.sql then deletes them all).
-- Params: workflow ids (JSON array of hex ids, sorted).
SELECT 1 AS jobs, 0 AS workflows,
       (SELECT COUNT(*) FROM hammerwork_spawn_operations AS o
        WHERE o.parent_job_id = j.id) AS spawn_operations,
       JSON_QUOTE(HEX(j.id)) AS to_apply
FROM JSON_TABLE(?, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_jobs AS j ON j.workflow_id = UNHEX(t.id)
ORDER BY j.id
FOR UPDATE
;
SELECT 0 AS jobs, 1 AS workflows, 0 AS spawn_operations
FROM JSON_TABLE(?, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_workflows AS w ON w.id = UNHEX(t.id)
