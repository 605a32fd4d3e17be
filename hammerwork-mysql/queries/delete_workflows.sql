-- Deletes workflow rows being pruned (their jobs went first).
-- Params: ids (JSON array of hex ids, sorted).
DELETE w
FROM JSON_TABLE(?, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_workflows AS w ON w.id = UNHEX(t.id)
