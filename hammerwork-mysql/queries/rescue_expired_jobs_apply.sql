-- Returns the jobs rescue_expired_jobs.sql locked to pending (their attempt
-- counted), or makes them dead when no attempt is left.
-- Params: ids (JSON array of hex ids), now, now.
UPDATE JSON_TABLE(?, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_jobs AS j ON j.id = UNHEX(t.id)
SET j.status = CASE WHEN j.attempts >= j.max_attempts THEN 'dead' ELSE 'pending' END,
    j.scheduled_at = ?,
    j.error_message = 'lease expired: the worker stopped heartbeating',
    j.failed_at = ?,
    j.lease_expires_at = NULL
WHERE j.status = 'running'
