-- One edge row per dependency.
-- Params: edges (JSON array of [parent hex id, job hex id]).
INSERT IGNORE INTO hammerwork_job_dependencies (parent_id, job_id)
SELECT UNHEX(t.parent_id), UNHEX(t.job_id)
FROM JSON_TABLE(?, '$[*]' COLUMNS (
         parent_id CHAR(32) PATH '$[0]',
         job_id    CHAR(32) PATH '$[1]'
     )) AS t
