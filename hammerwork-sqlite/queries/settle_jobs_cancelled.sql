-- ?1: a JSON array of {"id", "attempt", "reason"}.
UPDATE hammerwork_jobs AS j
SET status = 'cancelled',
    error_message = t.reason,
    completed_at = ?2,
    lease_expires_at = NULL
FROM (
    SELECT value ->> '$.id' AS id,
           value ->> '$.attempt' AS attempt,
           value ->> '$.reason' AS reason
    FROM json_each(?1)
) AS t
WHERE j.id = t.id AND j.attempts = t.attempt AND j.status = 'running'
RETURNING id, status, workflow_id
