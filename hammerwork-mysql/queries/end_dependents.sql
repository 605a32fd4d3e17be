-- Ends jobs found by end_dependents_walk.sql as `status` ('dead',
-- 'skipped' or 'cancelled'), their dependency marked failed.
-- Params: ids (JSON array of hex ids, sorted), status, why, now.
UPDATE JSON_TABLE(?, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_jobs AS j ON j.id = UNHEX(t.id)
SET j.status = ?,
    j.dependency_status = 'failed',
    j.error_message = ?,
    j.completed_at = ?,
    j.lease_expires_at = NULL
WHERE j.status IN ('pending', 'retrying')
