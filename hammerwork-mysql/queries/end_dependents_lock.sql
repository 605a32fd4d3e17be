-- The jobs of a end_dependents_walk.sql walk that still have not started,
-- locked in id order with their workflows: end_dependents.sql then ends
-- exactly these, and the caller knows which workflows they belong to.
-- Params: ids (JSON array of hex ids, sorted).
SELECT j.id, j.workflow_id
FROM JSON_TABLE(?, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_jobs AS j ON j.id = UNHEX(t.id)
WHERE j.status IN ('pending', 'retrying')
ORDER BY j.id
FOR UPDATE
