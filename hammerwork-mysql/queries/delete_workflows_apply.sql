-- Deletes the workflows delete_workflows.sql found, whole: their jobs'
-- dependency edges (as dependents by the job_id index, as parents by
-- primary key), the spawn operations the jobs made, the jobs, then the
-- workflow rows.
-- Params: workflow ids (JSON array of hex ids, sorted), job ids (JSON array
-- of hex ids).
DELETE d
FROM JSON_TABLE(?2, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_job_dependencies AS d ON d.job_id = UNHEX(t.id)
;
DELETE d
FROM JSON_TABLE(?2, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_job_dependencies AS d ON d.parent_id = UNHEX(t.id)
;
DELETE o
FROM JSON_TABLE(?2, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_spawn_operations AS o ON o.parent_job_id = UNHEX(t.id)
;
DELETE j
FROM JSON_TABLE(?2, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_jobs AS j ON j.id = UNHEX(t.id)
;
DELETE w
FROM JSON_TABLE(?1, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_workflows AS w ON w.id = UNHEX(t.id)
