-- ?1: a JSON array of {"id", "attempt", "started"}. An attempt that never
-- started is not counted.
UPDATE hammerwork_jobs AS j
SET status = 'pending',
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
