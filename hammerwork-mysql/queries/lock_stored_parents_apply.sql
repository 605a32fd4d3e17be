-- Flags stored parents as having dependents, so their settlement follows the
-- edge table (settling a job without this flag never reads it).
-- Params: ids (JSON array of hex ids, sorted).
UPDATE JSON_TABLE(?, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_jobs AS j ON j.id = UNHEX(t.id)
SET j.has_dependents = 1
WHERE j.has_dependents = 0
