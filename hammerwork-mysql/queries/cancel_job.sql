-- Job ?1 if it has not finished, locked, as cancel_job_apply.sql leaves it.
-- Params: id, now.
SELECT id, 'cancelled' AS status, workflow_id
FROM hammerwork_jobs
WHERE id = ?1 AND status IN ('pending', 'retrying', 'running')
FOR UPDATE
