-- Fails the workflows fail_expired_workflows.sql locked.
-- Params: now (unused), ids (JSON array of hex ids, sorted).
UPDATE JSON_TABLE(?2, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_workflows AS w ON w.id = UNHEX(t.id)
SET w.state = 'failed'
WHERE w.state IN ('running', 'paused')
