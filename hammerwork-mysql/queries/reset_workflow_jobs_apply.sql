-- The jobs found by reset_workflow_jobs.sql and reset_workflow_jobs_awaited.sql
-- (locked, so all still dead or cancelled) start over.
-- Params: ids (JSON array of hex ids, sorted), now.
UPDATE JSON_TABLE(?, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_jobs AS j ON j.id = UNHEX(t.id)
SET j.status = 'pending',
    j.attempts = 0,
    j.error_message = NULL,
    j.failed_at = NULL,
    j.completed_at = NULL,
    j.lease_expires_at = NULL,
    j.scheduled_at = ?
WHERE j.status IN ('dead', 'cancelled')
