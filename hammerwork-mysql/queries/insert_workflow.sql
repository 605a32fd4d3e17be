-- Params: id, name, description, failure_policy, created_at, deadline_at,
-- total, pending, failed, skipped, cancelled.
INSERT INTO hammerwork_workflows (
    id, name, description, failure_policy, state, created_at, deadline_at,
    total_jobs, pending_jobs, failed_jobs, skipped_jobs, cancelled_jobs
) VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?)
