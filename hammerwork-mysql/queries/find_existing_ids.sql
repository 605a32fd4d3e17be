-- The first id of a batch, in batch order, that is already stored.
-- Params: ids (JSON array of hex ids).
SELECT j.id
FROM JSON_TABLE(?, '$[*]' COLUMNS (ord FOR ORDINALITY, id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_jobs AS j ON j.id = UNHEX(t.id)
ORDER BY t.ord
LIMIT 1
