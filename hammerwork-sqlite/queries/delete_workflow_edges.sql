-- The edges of jobs ?1 (a JSON array of ids) of workflows being pruned,
-- either way.
DELETE FROM hammerwork_job_dependencies
WHERE job_id IN (SELECT value FROM json_each(?1))
   OR parent_id IN (SELECT value FROM json_each(?1))
