-- Deletes jobs being pruned (locked by the caller), by primary key. Params:
-- ids (JSON array of hex ids, sorted).
DELETE j
FROM JSON_TABLE(?, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_jobs AS j ON j.id = UNHEX(t.id)
