-- A workflow with a cron schedule starts its series' live occurrence
-- (cron_live = 1).
INSERT INTO hammerwork_workflows (
    id, name, description, failure_policy, state, created_at, deadline_at,
    total_jobs, pending_jobs, failed_jobs, skipped_jobs, cancelled_jobs,
    cron_schedule, timeout_ms, cron_live
) VALUES (
    ?1, ?2, ?3, ?4, 'running', ?5, ?6, ?7, ?8, ?9, ?10, ?11,
    ?12, ?13, CASE WHEN ?12 IS NULL THEN NULL ELSE 1 END
)
