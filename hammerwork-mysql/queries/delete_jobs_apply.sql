-- Deletes the jobs delete_jobs.sql found: their dependency edges as
-- dependents (by the job_id index), the spawn operations they made, then
-- the jobs by primary key.
-- Params: ids as given (unused), ids to delete (JSON array of hex ids).
DELETE d
FROM JSON_TABLE(?2, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_job_dependencies AS d ON d.job_id = UNHEX(t.id)
;
DELETE o
FROM JSON_TABLE(?2, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_spawn_operations AS o ON o.parent_job_id = UNHEX(t.id)
;
DELETE j
FROM JSON_TABLE(?2, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_jobs AS j ON j.id = UNHEX(t.id)
