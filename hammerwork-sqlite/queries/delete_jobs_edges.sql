-- The dependency edges of jobs ?1 (a JSON array of ids) either way: by the
-- job_id index and by primary key.
DELETE FROM hammerwork_job_dependencies
WHERE job_id IN (SELECT value FROM json_each(?1))
   OR parent_id IN (SELECT value FROM json_each(?1))
