-- The jobs reset_job.sql or reset_workflow_jobs.sql found (locked, so all
-- still dead or cancelled) start over at ?2.
-- Params: id (unused), now, ids (JSON array of hex ids; all locked already).
UPDATE JSON_TABLE(?3, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_jobs AS j ON j.id = UNHEX(t.id)
SET j.status = 'pending',
    j.attempts = 0,
    j.error_message = NULL,
    j.failed_at = NULL,
    j.completed_at = NULL,
    j.lease_expires_at = NULL,
    j.scheduled_at = ?2
WHERE j.status IN ('dead', 'cancelled')
