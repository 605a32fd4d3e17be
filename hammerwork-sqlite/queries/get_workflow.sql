-- The row, and its running jobs counted through the partial index of
-- running workflow jobs (bounded by concurrency, not the workflow's size).
SELECT w.*, (SELECT count(*) FROM hammerwork_jobs AS j
             WHERE j.workflow_id = w.id AND j.status = 'running') AS running_jobs
FROM hammerwork_workflows AS w
WHERE w.id = ?1
