-- ?1: a JSON array of {"id", "attempt"}.
UPDATE hammerwork_jobs AS j
SET lease_expires_at = ?2
FROM (
    SELECT value ->> '$.id' AS id, value ->> '$.attempt' AS attempt
    FROM json_each(?1)
) AS t
WHERE j.id = t.id AND j.attempts = t.attempt AND j.status = 'running'
