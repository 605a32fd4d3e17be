-- Up to ?2 workflows that finished before ?1 (microseconds), oldest first
-- (the partial index hammerwork_workflows_finished): not a recurring
-- workflow's live run, and none of whose jobs a job outside it depends on or
-- was spawned by. The transaction holds SQLite's write lock.
SELECT w.id
FROM hammerwork_workflows AS w INDEXED BY hammerwork_workflows_finished
WHERE w.finished_at < ?1
  AND w.finished_at IS NOT NULL
  AND w.cron_live IS NULL
  AND NOT EXISTS (
      SELECT 1
      FROM hammerwork_jobs AS j
      JOIN hammerwork_job_dependencies AS d ON d.parent_id = j.id
      JOIN hammerwork_jobs AS c ON c.id = d.job_id
      WHERE j.workflow_id = w.id AND c.workflow_id IS NOT w.id)
  AND NOT EXISTS (
      SELECT 1
      FROM hammerwork_jobs AS j
      JOIN hammerwork_jobs AS c ON c.parent_job_id = j.id
      WHERE j.workflow_id = w.id AND c.workflow_id IS NOT w.id)
ORDER BY w.finished_at
LIMIT ?2
