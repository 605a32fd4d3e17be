-- Inserts a batch in the initial states hammerwork_api::workflow::plan_enqueue
-- gave it; a job already ended is stamped $12 (the operation's clock). One
-- statement, so atomic on its own. enqueue_independent wraps it to wake the
-- queues that got a claimable job in the same statement.
INSERT INTO hammerwork_jobs (
    id, queue_name, payload, status, priority, attempts, max_attempts,
    created_at, scheduled_at, timeout_ms, retry_policy, trace_id, correlation_id,
    depends_on, dependency_status, pending_dependencies, workflow_id, condition,
    error_message, completed_at, cron_schedule, cron_live,
    parent_job_id, spawn_operation_id, spawn_depth, has_dependents
)
SELECT id, queue_name, payload, status, priority, 0, max_attempts,
       created_at, scheduled_at, timeout_ms, retry_policy, trace_id, correlation_id,
       depends_on, dependency_status, pending_dependencies, workflow_id, condition,
       error_message, CASE WHEN status = 'pending' THEN NULL ELSE $12::timestamptz END,
       cron_schedule, CASE WHEN cron_schedule IS NULL THEN NULL ELSE 1 END,
       parent_job_id, spawn_operation_id, spawn_depth, has_dependents
FROM UNNEST(
    $1::uuid[], $2::text[], $3::jsonb[], $4::smallint[], $5::int[],
    $6::timestamptz[], $7::timestamptz[], $8::bigint[], $9::jsonb[], $10::text[], $11::text[],
    $13::jsonb[], $14::text[], $15::int[], $16::uuid[], $17::text[], $18::text[], $19::text[],
    $20::text[], $21::uuid[], $22::text[], $23::int[], $24::bool[]
) AS t(id, queue_name, payload, priority, max_attempts,
       created_at, scheduled_at, timeout_ms, retry_policy, trace_id, correlation_id,
       depends_on, dependency_status, pending_dependencies, workflow_id, condition,
       error_message, status, cron_schedule,
       parent_job_id, spawn_operation_id, spawn_depth, has_dependents)
RETURNING queue_name, status, dependency_status
