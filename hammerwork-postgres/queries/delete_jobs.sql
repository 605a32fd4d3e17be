-- Deletes those of jobs $1 (locked by the caller) that no stored job depends
-- on, with their edges as dependents and the spawn operations they made;
-- counts the jobs and the operations. The edge test runs in this statement's
-- snapshot, taken after the locks: an enqueue that added an edge to one of
-- them committed before (it locks its stored parents first), so it is seen
-- here and that job stays.
WITH doomed AS MATERIALIZED (
    SELECT t.id
    FROM UNNEST($1::uuid[]) AS t(id)
    WHERE NOT EXISTS (SELECT 1 FROM hammerwork_job_dependencies AS d WHERE d.parent_id = t.id)
), edges AS (
    DELETE FROM hammerwork_job_dependencies WHERE job_id IN (SELECT id FROM doomed)
), operations AS (
    DELETE FROM hammerwork_spawn_operations WHERE parent_job_id IN (SELECT id FROM doomed)
    RETURNING 1
), jobs AS (
    DELETE FROM hammerwork_jobs WHERE id IN (SELECT id FROM doomed)
    RETURNING 1
)
SELECT (SELECT COUNT(*) FROM jobs) AS jobs, 0::bigint AS workflows,
       (SELECT COUNT(*) FROM operations) AS spawn_operations
