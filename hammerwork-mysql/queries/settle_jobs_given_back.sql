-- An attempt that never started is not counted. One interrupted on the job's
-- last allowed attempt ends the job as `dead`, as a lease rescue would.
-- Params: outcomes (JSON array of {id, attempt, started: 0|1}, sorted by id), now.
UPDATE JSON_TABLE(?, '$[*]' COLUMNS (
           id      CHAR(32) PATH '$.id',
           attempt INT      PATH '$.attempt',
           started INT      PATH '$.started'
       )) AS t
STRAIGHT_JOIN hammerwork_jobs AS j ON j.id = UNHEX(t.id)
CROSS JOIN (SELECT CAST(? AS DATETIME(6)) AS now) AS n
SET j.status = CASE WHEN t.started = 1 AND j.attempts >= j.max_attempts THEN 'dead' ELSE 'pending' END,
    j.error_message = CASE WHEN t.started = 1 AND j.attempts >= j.max_attempts
        THEN 'interrupted by shutdown on its last attempt' ELSE j.error_message END,
    j.failed_at = CASE WHEN t.started = 1 AND j.attempts >= j.max_attempts THEN n.now ELSE j.failed_at END,
    j.attempts = CASE WHEN t.started = 1 THEN j.attempts ELSE j.attempts - 1 END,
    j.scheduled_at = n.now,
    j.lease_expires_at = NULL
WHERE j.attempts = t.attempt AND j.status = 'running'
