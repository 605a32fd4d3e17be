-- Operations in the window, their children, and how many of those are dead
-- (found through hammerwork_jobs.spawn_operation_id, indexed). SUM of a
-- BIGINT is a DECIMAL: cast back to BIGINT.
-- Params: queue, since, until.
WITH ops AS (
    SELECT id, child_count
    FROM hammerwork_spawn_operations
    WHERE (?1 IS NULL OR queue_name = ?1)
      AND (?2 IS NULL OR created_at >= ?2)
      AND (?3 IS NULL OR created_at < ?3)
)
SELECT
    (SELECT COUNT(*) FROM ops) AS operations,
    (SELECT CAST(COALESCE(SUM(child_count), 0) AS SIGNED) FROM ops) AS children,
    (SELECT COUNT(*)
     FROM ops
     JOIN hammerwork_jobs AS j ON j.spawn_operation_id = ops.id
     WHERE j.status = 'dead') AS failed_children
