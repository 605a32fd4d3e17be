-- Up to `limit` workflows that finished before a time, oldest first (the
-- index hammerwork_workflows_finished): not a recurring workflow's live run,
-- and none of whose jobs a job outside it depends on or was spawned by.
-- Locked, skipping locked rows. Params: ended before, limit.
SELECT w.id
FROM hammerwork_workflows AS w FORCE INDEX (hammerwork_workflows_finished)
WHERE w.finished_at < ?
  AND w.cron_live IS NULL
  AND NOT EXISTS (
      SELECT 1
      FROM hammerwork_jobs AS j
      JOIN hammerwork_job_dependencies AS d ON d.parent_id = j.id
      JOIN hammerwork_jobs AS c ON c.id = d.job_id
      WHERE j.workflow_id = w.id AND NOT (c.workflow_id <=> w.id))
  AND NOT EXISTS (
      SELECT 1
      FROM hammerwork_jobs AS j
      JOIN hammerwork_jobs AS c ON c.parent_job_id = j.id
      WHERE j.workflow_id = w.id AND NOT (c.workflow_id <=> w.id))
ORDER BY w.finished_at
LIMIT ?
FOR UPDATE SKIP LOCKED
