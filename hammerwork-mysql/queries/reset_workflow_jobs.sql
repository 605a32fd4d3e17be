-- The workflow's dead and cancelled jobs, locked, with their queues.
-- Params: workflow id.
SELECT id, status AS previous, workflow_id, queue_name
FROM hammerwork_jobs
WHERE workflow_id = ? AND status IN ('dead', 'cancelled')
ORDER BY id
FOR UPDATE
