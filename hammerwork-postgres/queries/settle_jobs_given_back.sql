-- An attempt that never started is not counted. One interrupted on the job's
-- last allowed attempt ends the job as `dead`, as a lease rescue would.
UPDATE hammerwork_jobs AS j
SET status = CASE WHEN t.started AND j.attempts >= j.max_attempts THEN 'dead' ELSE 'pending' END,
    error_message = CASE WHEN t.started AND j.attempts >= j.max_attempts
        THEN 'interrupted by shutdown on its last attempt' ELSE j.error_message END,
    failed_at = CASE WHEN t.started AND j.attempts >= j.max_attempts THEN $3 ELSE j.failed_at END,
    attempts = CASE WHEN t.started THEN j.attempts ELSE j.attempts - 1 END,
    scheduled_at = $3,
    lease_expires_at = NULL
FROM UNNEST($1::uuid[], $2::int[], $4::bool[]) AS t(id, attempt, started)
WHERE j.id = t.id AND j.attempts = t.attempt AND j.status = 'running'
RETURNING j.id, j.status, j.workflow_id
