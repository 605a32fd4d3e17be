-- Job ?1 if it can start over: dead or cancelled, outside any workflow, its
-- dependencies (if any) all completed. reset_workflow_jobs.sql then resets
-- it (in the same write transaction).
SELECT id, status AS previous, workflow_id, queue_name
FROM hammerwork_jobs
WHERE id = ?1
  AND status IN ('dead', 'cancelled')
  AND workflow_id IS NULL
  AND dependency_status IN ('none', 'satisfied')
