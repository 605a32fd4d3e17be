-- The dependency edges of jobs being pruned, as parents (by primary key;
-- normally none: a job with a dependent is pruned after it, except within a
-- workflow). Params: ids (JSON array of hex ids, sorted).
DELETE d
FROM JSON_TABLE(?, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_job_dependencies AS d ON d.parent_id = UNHEX(t.id)
