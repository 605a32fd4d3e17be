-- ?1: a JSON array of [parent_id, job_id] pairs.
INSERT OR IGNORE INTO hammerwork_job_dependencies (parent_id, job_id)
SELECT value ->> '$[0]', value ->> '$[1]'
FROM json_each(?1)
