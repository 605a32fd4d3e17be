-- The workflow row, running, with its total; the terminal counters start at
-- zero and the engine adds the jobs that ended at once.
-- Params: id, name, description, failure policy, created, deadline, total,
-- cron schedule, timeout (a recurring workflow is its series' live one).
INSERT INTO hammerwork_workflows (
    id, name, description, failure_policy, state, created_at, deadline_at,
    total_jobs, cron_schedule, timeout_ms, cron_live
) VALUES (?1, ?2, ?3, ?4, 'running', ?5, ?6, ?7, ?8, ?9, CASE WHEN ?8 IS NOT NULL THEN 1 END)
