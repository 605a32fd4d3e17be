-- Params: workflow ids (JSON array of hex ids, sorted), state.
UPDATE JSON_TABLE(?, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_workflows AS w ON w.id = UNHEX(t.id)
SET w.state = ?
WHERE w.state IN ('running', 'paused')
