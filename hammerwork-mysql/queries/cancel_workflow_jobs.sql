-- Every unfinished job of these workflows, locked until the transaction ends
-- (cancel_workflow_jobs_apply.sql then cancels exactly these).
-- Params: workflow ids (JSON array of hex ids, sorted).
-- Through hammerwork_jobs_workflow_status, forced: with ORDER BY id the
-- optimizer may walk the primary key instead, reading (and locking) every job.
SELECT j.id, j.workflow_id, j.has_dependents
FROM JSON_TABLE(?, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_jobs AS j FORCE INDEX (hammerwork_jobs_workflow_status)
    ON j.workflow_id = UNHEX(t.id)
WHERE j.workflow_status IN ('pending', 'retrying', 'running')
ORDER BY j.id
FOR UPDATE
