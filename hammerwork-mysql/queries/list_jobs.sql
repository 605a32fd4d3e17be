-- Params: queue, queue, status, status, after, after, limit.
SELECT *
FROM hammerwork_jobs
WHERE (? IS NULL OR queue_name = ?)
  AND (? IS NULL OR status = ?)
  AND (? IS NULL OR id > ?)
ORDER BY id
LIMIT ?
