-- Params: after, limit.
SELECT w.id, w.name, w.description, w.failure_policy, w.state, w.created_at, w.deadline_at,
       w.total_jobs, w.completed_jobs, w.failed_jobs, w.skipped_jobs, w.cancelled_jobs,
       w.cron_schedule, w.timeout_ms, w.next_occurrence,
       (SELECT COUNT(*) FROM hammerwork_jobs AS j FORCE INDEX (hammerwork_jobs_workflow_status)
        WHERE j.workflow_id = w.id AND j.workflow_status = 'running') AS running_jobs
FROM hammerwork_workflows AS w
WHERE (?1 IS NULL OR w.id > ?1)
ORDER BY w.id
LIMIT ?2
