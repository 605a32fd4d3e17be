-- Params: workflow ids (JSON array of hex ids).
SELECT w.id, w.failure_policy
FROM JSON_TABLE(?, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_workflows AS w ON w.id = UNHEX(t.id)
