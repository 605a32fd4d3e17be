-- The dependency edges of jobs being pruned, as dependents (by the job_id
-- index). Params: ids (JSON array of hex ids, sorted).
DELETE d
FROM JSON_TABLE(?, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_job_dependencies AS d ON d.job_id = UNHEX(t.id)
