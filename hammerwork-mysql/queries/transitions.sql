-- Where jobs this transaction changed (and still locks) ended up.
-- Params: ids (JSON array of hex ids).
SELECT j.id, j.status, j.workflow_id, j.has_dependents
FROM JSON_TABLE(?, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_jobs AS j ON j.id = UNHEX(t.id)
