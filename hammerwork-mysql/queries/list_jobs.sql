-- Params: queue, queue, status, status, after, after, workflow, workflow, limit.
SELECT *
FROM hammerwork_jobs
WHERE (? IS NULL OR queue_name = ?)
  AND (? IS NULL OR status = ?)
  AND (? IS NULL OR id > ?)
  AND (? IS NULL OR workflow_id = ?)
ORDER BY id
LIMIT ?
