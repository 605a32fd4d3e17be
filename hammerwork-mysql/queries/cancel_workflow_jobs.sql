-- Every unfinished job of these workflows, locked until the transaction ends
-- (cancel_workflow_jobs_apply.sql then cancels exactly these).
-- Params: workflow ids (JSON array of hex ids, sorted).
SELECT j.id, j.workflow_id, j.has_dependents
FROM JSON_TABLE(?, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_jobs AS j ON j.workflow_id = UNHEX(t.id)
WHERE j.status IN ('pending', 'retrying', 'running')
ORDER BY j.id
FOR UPDATE
