-- The dependency edges of jobs being pruned with their workflow, as parents
-- (by primary key). Params: ids (JSON array of hex ids, sorted).
DELETE d
FROM JSON_TABLE(?, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_job_dependencies AS d ON d.parent_id = UNHEX(t.id)
