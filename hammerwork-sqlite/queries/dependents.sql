-- The edges out of the parents ?1 (a JSON array of ids; the primary key's
-- prefix).
SELECT parent_id, job_id
FROM hammerwork_job_dependencies
WHERE parent_id IN (SELECT value FROM json_each(?1))
ORDER BY parent_id, job_id
