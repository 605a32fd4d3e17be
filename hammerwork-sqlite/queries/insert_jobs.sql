-- Inserts a batch given as one JSON array parameter (one object per job), so
-- the statement is the same whatever the batch size and never nears SQLite's
-- limit on bound parameters. One statement: atomic on its own. JSON columns
-- arrive as JSON strings holding the serialised value, so their text is stored
-- exactly as serde_json wrote it. Initial states are planned by
-- hammerwork_api::workflow::plan_enqueue (?1 is a JSON array of
-- hammerwork_api::driver::JobRecord); a job that is not pending is finished
-- at once, stamped ?2 (the operation's clock). A job with a cron schedule
-- starts its series' live occurrence (cron_live = 1). A spawned child carries
-- its parent, its spawn operation and its depth (0 when nothing spawned it).
INSERT INTO hammerwork_jobs (
    id, queue_name, payload, status, priority, attempts, max_attempts,
    created_at, scheduled_at, timeout_ms, retry_policy, trace_id, correlation_id,
    depends_on, dependency_status, pending_dependencies, workflow_id, condition,
    error_message, completed_at, cron_schedule, cron_live,
    parent_job_id, spawn_operation_id, spawn_depth
)
SELECT value ->> '$.id',
       value ->> '$.queue_name',
       value ->> '$.payload',
       value ->> '$.status',
       value ->> '$.priority',
       0,
       value ->> '$.max_attempts',
       value ->> '$.created_at',
       value ->> '$.scheduled_at',
       value ->> '$.timeout_ms',
       value ->> '$.retry_policy',
       value ->> '$.trace_id',
       value ->> '$.correlation_id',
       value ->> '$.depends_on',
       value ->> '$.dependency_status',
       value ->> '$.pending_dependencies',
       value ->> '$.workflow_id',
       value ->> '$.condition',
       value ->> '$.error_message',
       CASE WHEN value ->> '$.status' = 'pending' THEN NULL ELSE ?2 END,
       value ->> '$.cron_schedule',
       CASE WHEN value ->> '$.cron_schedule' IS NULL THEN NULL ELSE 1 END,
       value ->> '$.parent_job_id',
       value ->> '$.spawn_operation_id',
       value ->> '$.spawn_depth'
FROM json_each(?1)
