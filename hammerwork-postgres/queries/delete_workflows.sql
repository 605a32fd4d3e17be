-- Deletes workflows $1 (locked by the caller) whole: their jobs, the jobs'
-- edges either way and spawn operations, and the workflow rows; counts the
-- jobs, the workflows and the operations.
WITH doomed AS MATERIALIZED (
    SELECT id FROM hammerwork_jobs WHERE workflow_id = ANY($1::uuid[])
), as_dependent AS (
    DELETE FROM hammerwork_job_dependencies WHERE job_id IN (SELECT id FROM doomed)
), as_parent AS (
    DELETE FROM hammerwork_job_dependencies WHERE parent_id IN (SELECT id FROM doomed)
), operations AS (
    DELETE FROM hammerwork_spawn_operations WHERE parent_job_id IN (SELECT id FROM doomed)
    RETURNING 1
), jobs AS (
    DELETE FROM hammerwork_jobs WHERE id IN (SELECT id FROM doomed)
    RETURNING 1
), workflows AS (
    DELETE FROM hammerwork_workflows WHERE id = ANY($1::uuid[])
    RETURNING 1
)
SELECT (SELECT COUNT(*) FROM jobs) AS jobs,
       (SELECT COUNT(*) FROM workflows) AS workflows,
       (SELECT COUNT(*) FROM operations) AS spawn_operations
