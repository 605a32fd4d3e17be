-- The workflow's dead and cancelled jobs, locked, with their queues.
-- Params: workflow id.
-- Through hammerwork_jobs_workflow_status, forced: with ORDER BY id the
-- optimizer may walk the primary key instead, reading (and locking) every job.
SELECT id, status AS previous, workflow_id, queue_name
FROM hammerwork_jobs FORCE INDEX (hammerwork_jobs_workflow_status)
WHERE workflow_id = ? AND workflow_status IN ('dead', 'cancelled')
ORDER BY id
FOR UPDATE
