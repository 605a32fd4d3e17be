-- The edges of those of jobs ?1 (a JSON array of ids) that are now deleted,
-- as dependents (by the job_id index).
DELETE FROM hammerwork_job_dependencies
WHERE job_id IN (SELECT value FROM json_each(?1))
  AND NOT EXISTS (SELECT 1 FROM hammerwork_jobs AS j
                  WHERE j.id = hammerwork_job_dependencies.job_id)
