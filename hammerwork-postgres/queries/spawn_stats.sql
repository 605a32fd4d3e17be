-- Operations in the window, their children, and how many of those are dead.
WITH ops AS (
    SELECT id, child_count FROM hammerwork_spawn_operations
    WHERE ($1::text IS NULL OR queue_name = $1)
      AND ($2::timestamptz IS NULL OR created_at >= $2)
      AND ($3::timestamptz IS NULL OR created_at < $3)
)
SELECT
    (SELECT count(*) FROM ops) AS operations,
    (SELECT coalesce(sum(child_count), 0)::bigint FROM ops) AS children,
    (SELECT count(*) FROM hammerwork_jobs j JOIN ops ON j.spawn_operation_id = ops.id
     WHERE j.status = 'dead') AS failed_children
