-- Params: id, name, description, failure_policy, created_at, deadline_at,
-- total, pending, failed, skipped, cancelled, cron_schedule, timeout_ms,
-- cron_live (1 for a recurring workflow, else NULL).
INSERT INTO hammerwork_workflows (
    id, name, description, failure_policy, state, created_at, deadline_at,
    total_jobs, pending_jobs, failed_jobs, skipped_jobs, cancelled_jobs,
    cron_schedule, timeout_ms, cron_live
) VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
