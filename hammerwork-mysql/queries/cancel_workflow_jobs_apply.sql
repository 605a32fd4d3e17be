-- Cancels the jobs cancel_workflow_jobs.sql found and locked (the engine
-- counts them).
-- Params: workflow ids (unused), why, now, ids (JSON array of hex ids).
UPDATE JSON_TABLE(?4, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_jobs AS j ON j.id = UNHEX(t.id)
SET j.status = 'cancelled',
    j.error_message = ?2,
    j.completed_at = ?3,
    j.lease_expires_at = NULL
WHERE j.status IN ('pending', 'retrying', 'running')
