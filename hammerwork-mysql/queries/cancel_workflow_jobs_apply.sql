-- Cancels jobs found (and locked) by cancel_workflow_jobs.sql and
-- cancel_workflow_jobs_awaited.sql (the engine counts them).
-- Params: ids (JSON array of hex ids, sorted), why, now.
UPDATE JSON_TABLE(?, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_jobs AS j ON j.id = UNHEX(t.id)
SET j.status = 'cancelled',
    j.error_message = ?,
    j.completed_at = ?,
    j.lease_expires_at = NULL
WHERE j.status IN ('pending', 'retrying', 'running')
