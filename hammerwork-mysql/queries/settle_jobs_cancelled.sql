-- Params: outcomes (JSON array of {id, attempt, reason}, sorted by id), now.
UPDATE JSON_TABLE(?, '$[*]' COLUMNS (
           id      CHAR(32) PATH '$.id',
           attempt INT      PATH '$.attempt',
           reason  LONGTEXT PATH '$.reason'
       )) AS t
STRAIGHT_JOIN hammerwork_jobs AS j ON j.id = UNHEX(t.id)
SET j.status = 'cancelled',
    j.error_message = t.reason,
    j.completed_at = ?,
    j.lease_expires_at = NULL
WHERE j.attempts = t.attempt AND j.status = 'running'
