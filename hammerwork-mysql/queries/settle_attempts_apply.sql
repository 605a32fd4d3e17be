-- Applies a batch of attempt outcomes (hammerwork_api::driver::SettleRecord,
-- sorted by id; locked by settle_attempts.sql, or alone for jobs nothing
-- else follows), each only if its attempt is still the job's running one:
-- completed (result: its JSON text, absent for none, so JSON null and no
-- result stay apart); failed (message, retry_at in microseconds: retrying
-- while attempts are left, else dead); cancelled (message); given_back
-- (started: an attempt that never started is not counted, one interrupted on
-- the last attempt ends dead, as a lease rescue would make it).
-- The rest of the row's room goes (claim_jobs_apply.sql): a job that ends
-- takes phase_rank and phase_at (10 bytes) and a longer phase, and the row
-- would otherwise grow in its full page.
-- Params: outcomes (JSON array), now.
UPDATE JSON_TABLE(?, '$[*]' COLUMNS (
           id       CHAR(36)    PATH '$.id',
           claim    BIGINT      PATH '$.claim',
           kind     VARCHAR(16) PATH '$.kind',
           result   LONGTEXT    PATH '$.result',
           message  LONGTEXT    PATH '$.message',
           retry_at BIGINT      PATH '$.retry_at',
           started  VARCHAR(5)  PATH '$.started'
       )) AS t
STRAIGHT_JOIN hammerwork_jobs AS j ON j.id = UNHEX(REPLACE(t.id, '-', ''))
CROSS JOIN (SELECT CAST(? AS DATETIME(6)) AS now) AS n
SET j.status = CASE t.kind
        WHEN 'failed' THEN
            CASE WHEN t.retry_at IS NULL OR j.attempts >= j.max_attempts THEN 'dead' ELSE 'retrying' END
        WHEN 'given_back' THEN
            CASE WHEN t.started = 'true' AND j.attempts >= j.max_attempts THEN 'dead' ELSE 'pending' END
        ELSE t.kind
    END,
    j.result = CASE WHEN t.kind = 'completed' THEN t.result ELSE j.result END,
    j.error_message = CASE
        WHEN t.kind IN ('failed', 'cancelled') THEN t.message
        WHEN t.kind = 'given_back' AND t.started = 'true' AND j.attempts >= j.max_attempts
            THEN 'interrupted by shutdown on its last attempt'
        ELSE j.error_message
    END,
    j.completed_at = CASE WHEN t.kind IN ('completed', 'cancelled') THEN n.now ELSE j.completed_at END,
    j.failed_at = CASE
        WHEN t.kind = 'failed'
          OR (t.kind = 'given_back' AND t.started = 'true' AND j.attempts >= j.max_attempts)
            THEN n.now
        ELSE j.failed_at
    END,
    j.scheduled_at = CASE t.kind
        WHEN 'failed' THEN
            COALESCE(TIMESTAMPADD(MICROSECOND, t.retry_at, TIMESTAMP '1970-01-01 00:00:00'),
                     j.scheduled_at)
        WHEN 'given_back' THEN n.now
        ELSE j.scheduled_at
    END,
    j.attempts = CASE WHEN t.kind = 'given_back' AND t.started = 'false'
        THEN j.attempts - 1 ELSE j.attempts END,
    j.lease_expires_at = NULL,
    j.room = NULL
WHERE j.claims = t.claim AND j.status = 'running'
