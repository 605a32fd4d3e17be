-- Deletes those of jobs ?1 (a JSON array of ids) that no stored job depends
-- on (delete_jobs_operations.sql ran first, delete_jobs_edges.sql follows;
-- for a workflow pruned whole, delete_workflow_edges.sql ran first).
DELETE FROM hammerwork_jobs
WHERE id IN (SELECT value FROM json_each(?1))
  AND NOT EXISTS (SELECT 1 FROM hammerwork_job_dependencies AS d
                  WHERE d.parent_id = hammerwork_jobs.id)
