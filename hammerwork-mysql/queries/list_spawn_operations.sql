-- Newest first.
-- Params: queue, queue, since, since, until, until, limit.
SELECT *
FROM hammerwork_spawn_operations
WHERE (? IS NULL OR queue_name = ?)
  AND (? IS NULL OR created_at >= ?)
  AND (? IS NULL OR created_at < ?)
ORDER BY created_at DESC, id DESC
LIMIT ?
