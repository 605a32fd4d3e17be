-- ?1: a JSON array of {"id", "attempt", "started"}. An attempt that never
-- started is not counted. One interrupted on the job's last allowed attempt
-- ends the job as `dead`, as a lease rescue would.
UPDATE hammerwork_jobs AS j
SET status = CASE WHEN t.started AND j.attempts >= j.max_attempts THEN 'dead' ELSE 'pending' END,
    error_message = CASE WHEN t.started AND j.attempts >= j.max_attempts
        THEN 'interrupted by shutdown on its last attempt' ELSE j.error_message END,
    failed_at = CASE WHEN t.started AND j.attempts >= j.max_attempts THEN ?2 ELSE j.failed_at END,
    attempts = CASE WHEN t.started THEN j.attempts ELSE j.attempts - 1 END,
    scheduled_at = ?2,
    lease_expires_at = NULL
FROM (
    SELECT value ->> '$.id' AS id,
           value ->> '$.attempt' AS attempt,
           value ->> '$.started' AS started
    FROM json_each(?1)
) AS t
WHERE j.id = t.id AND j.attempts = t.attempt AND j.status = 'running'
RETURNING id, status, workflow_id
