-- The edges out of the parents ? (a JSON array of hex ids; the primary key's
-- prefix).
-- Params: parents.
SELECT d.parent_id, d.job_id
FROM JSON_TABLE(?, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_job_dependencies AS d ON d.parent_id = UNHEX(t.id)
ORDER BY d.parent_id, d.job_id
