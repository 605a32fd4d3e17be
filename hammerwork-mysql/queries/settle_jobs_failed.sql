-- Params: outcomes (JSON array of {id, attempt, error, retry_at?}, sorted by
-- id; retry_at as 'YYYY-MM-DD hh:mm:ss.ffffff' UTC), now.
UPDATE JSON_TABLE(?, '$[*]' COLUMNS (
           id       CHAR(32)    PATH '$.id',
           attempt  INT         PATH '$.attempt',
           error    LONGTEXT    PATH '$.error',
           retry_at VARCHAR(32) PATH '$.retry_at'
       )) AS t
STRAIGHT_JOIN hammerwork_jobs AS j ON j.id = UNHEX(t.id)
SET j.status = CASE
        WHEN t.retry_at IS NULL OR j.attempts >= j.max_attempts THEN 'dead'
        ELSE 'retrying'
    END,
    j.scheduled_at = COALESCE(CAST(t.retry_at AS DATETIME(6)), j.scheduled_at),
    j.error_message = t.error,
    j.failed_at = ?,
    j.lease_expires_at = NULL
WHERE j.attempts = t.attempt AND j.status = 'running'
