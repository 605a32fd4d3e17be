UPDATE hammerwork_jobs AS j
SET status = CASE
        WHEN t.retry_at IS NULL OR j.attempts >= j.max_attempts THEN 'dead'
        ELSE 'retrying'
    END,
    scheduled_at = COALESCE(t.retry_at, j.scheduled_at),
    error_message = t.error,
    failed_at = $4,
    lease_expires_at = NULL
FROM UNNEST($1::uuid[], $2::int[], $3::text[], $5::timestamptz[]) AS t(id, attempt, error, retry_at)
WHERE j.id = t.id AND j.attempts = t.attempt AND j.status = 'running'
RETURNING j.id, j.status, j.workflow_id
