-- The edges out of the parents $1 (the primary key's prefix).
SELECT parent_id, job_id
FROM hammerwork_job_dependencies
WHERE parent_id = ANY($1::uuid[])
ORDER BY parent_id, job_id
