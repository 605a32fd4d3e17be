-- The head of the bulk insert; insert_jobs_row.sql is repeated once per job
-- after it (a power-of-two number of rows: see src/insert.rs). Initial states
-- come from hammerwork_api::workflow::plan_enqueue; a job already ended is
-- stamped with the operation's clock, and a recurring job is its series'
-- live occurrence.
INSERT INTO hammerwork_jobs (
    id, queue_name, payload, status, priority, attempts, max_attempts,
    created_at, scheduled_at, completed_at, timeout_ms, retry_policy, trace_id, correlation_id,
    depends_on, dependency_status, pending_dependencies, workflow_id, `condition`,
    error_message, has_dependents, cron_schedule, cron_live,
    parent_job_id, spawn_operation_id, spawn_depth
) VALUES
