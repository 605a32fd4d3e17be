-- Deletes jobs $1 (locked by the caller), their dependency edges either way
-- and the spawn operations they made; counts the jobs and the operations.
WITH as_dependent AS (
    DELETE FROM hammerwork_job_dependencies WHERE job_id = ANY($1::uuid[])
), as_parent AS (
    DELETE FROM hammerwork_job_dependencies WHERE parent_id = ANY($1::uuid[])
), operations AS (
    DELETE FROM hammerwork_spawn_operations WHERE parent_job_id = ANY($1::uuid[])
    RETURNING 1
), jobs AS (
    DELETE FROM hammerwork_jobs WHERE id = ANY($1::uuid[])
    RETURNING 1
)
SELECT (SELECT COUNT(*) FROM jobs) AS jobs,
       (SELECT COUNT(*) FROM operations) AS spawn_operations
