-- Newest first.
-- Params: queue, since, until, limit.
SELECT *
FROM hammerwork_spawn_operations
WHERE (?1 IS NULL OR queue_name = ?1)
  AND (?2 IS NULL OR created_at >= ?2)
  AND (?3 IS NULL OR created_at < ?3)
ORDER BY created_at DESC, id DESC
LIMIT ?4
