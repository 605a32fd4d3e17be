-- Inserts a batch and wakes the listeners of every queue it wrote to. One
-- statement, so it is atomic on its own; NOTIFY is delivered on commit.
WITH inserted AS (
    INSERT INTO hammerwork_jobs (
        id, queue_name, payload, status, priority, attempts, max_attempts,
        created_at, scheduled_at, timeout_ms, retry_policy, trace_id, correlation_id
    )
    SELECT id, queue_name, payload, 'pending', priority, 0, max_attempts,
           created_at, scheduled_at, timeout_ms, retry_policy, trace_id, correlation_id
    FROM UNNEST(
        $1::uuid[], $2::text[], $3::jsonb[], $4::smallint[], $5::int[],
        $6::timestamptz[], $7::timestamptz[], $8::bigint[], $9::jsonb[], $10::text[], $11::text[]
    ) AS t(id, queue_name, payload, priority, max_attempts,
           created_at, scheduled_at, timeout_ms, retry_policy, trace_id, correlation_id)
    RETURNING queue_name
)
SELECT pg_notify($12, queue_name) FROM (SELECT DISTINCT queue_name FROM inserted) AS q
