-- The jobs of workflows being pruned, locked, in id order.
-- Params: ids (JSON array of hex ids, sorted).
SELECT j.id
FROM JSON_TABLE(?, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_jobs AS j ON j.workflow_id = UNHEX(t.id)
ORDER BY j.id
FOR UPDATE
