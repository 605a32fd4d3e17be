-- Job ?, locked, if it can start over: dead or cancelled, outside any
-- workflow, its dependencies (if any) all completed. reset_job_apply.sql
-- then resets it. Params: id, now.
SELECT id, status AS previous, workflow_id, queue_name, JSON_QUOTE(HEX(id)) AS to_apply
FROM hammerwork_jobs
WHERE id = ?
  AND status IN ('dead', 'cancelled')
  AND workflow_id IS NULL
  AND dependency_status IN ('none', 'satisfied')
FOR UPDATE
