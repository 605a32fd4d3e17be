-- Operations in the window, their children, and how many of those are dead
-- (found through hammerwork_jobs.spawn_operation_id, indexed). SUM of a
-- BIGINT is a DECIMAL: cast back to BIGINT.
-- Params: queue, queue, since, since, until, until.
WITH ops AS (
    SELECT id, child_count
    FROM hammerwork_spawn_operations
    WHERE (? IS NULL OR queue_name = ?)
      AND (? IS NULL OR created_at >= ?)
      AND (? IS NULL OR created_at < ?)
)
SELECT
    (SELECT COUNT(*) FROM ops) AS operations,
    (SELECT CAST(COALESCE(SUM(child_count), 0) AS SIGNED) FROM ops) AS children,
    (SELECT COUNT(*)
     FROM ops
     JOIN hammerwork_jobs AS j ON j.spawn_operation_id = ops.id
     WHERE j.status = 'dead') AS failed_children
