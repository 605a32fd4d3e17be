-- Operations in the window, their children, and how many of those are dead.
-- Timestamps are microseconds since the epoch: ?2 and ?3 too. Dead children
-- are counted per operation through the spawn_operation_id index, so the
-- cost follows the operations in the window, not every spawned job.
WITH ops AS (
    SELECT id, child_count FROM hammerwork_spawn_operations
    WHERE (?1 IS NULL OR queue_name = ?1)
      AND (?2 IS NULL OR created_at >= ?2)
      AND (?3 IS NULL OR created_at < ?3)
)
SELECT
    (SELECT count(*) FROM ops) AS operations,
    (SELECT coalesce(sum(child_count), 0) FROM ops) AS children,
    (SELECT coalesce(sum((SELECT count(*) FROM hammerwork_jobs AS j
                          WHERE j.spawn_operation_id = ops.id AND j.status = 'dead')), 0)
     FROM ops) AS failed_children
