-- Applies a batch of attempt outcomes (?1: a JSON array of
-- hammerwork_api::driver::SettleRecord), each only if its attempt is still the
-- job's running one: completed (result: its JSON text, absent for none);
-- failed (message, retry_at in microseconds: retrying while attempts are
-- left, else dead); cancelled (message); given_back (started: an attempt that
-- never started is not counted, one interrupted on the last attempt ends
-- dead, as a lease rescue would make it). ?2 is the clock.
UPDATE hammerwork_jobs AS j
SET status = CASE t.kind
        WHEN 'failed' THEN
            CASE WHEN t.retry_at IS NULL OR j.attempts >= j.max_attempts THEN 'dead' ELSE 'retrying' END
        WHEN 'given_back' THEN
            CASE WHEN t.started AND j.attempts >= j.max_attempts THEN 'dead' ELSE 'pending' END
        ELSE t.kind
    END,
    result = CASE WHEN t.kind = 'completed' THEN t.result ELSE j.result END,
    error_message = CASE
        WHEN t.kind IN ('failed', 'cancelled') THEN t.message
        WHEN t.kind = 'given_back' AND t.started AND j.attempts >= j.max_attempts
            THEN 'interrupted by shutdown on its last attempt'
        ELSE j.error_message
    END,
    completed_at = CASE WHEN t.kind IN ('completed', 'cancelled') THEN ?2 ELSE j.completed_at END,
    failed_at = CASE
        WHEN t.kind = 'failed' OR (t.kind = 'given_back' AND t.started AND j.attempts >= j.max_attempts)
            THEN ?2
        ELSE j.failed_at
    END,
    scheduled_at = CASE t.kind
        WHEN 'failed' THEN COALESCE(t.retry_at, j.scheduled_at)
        WHEN 'given_back' THEN ?2
        ELSE j.scheduled_at
    END,
    attempts = CASE WHEN t.kind = 'given_back' AND NOT t.started THEN j.attempts - 1 ELSE j.attempts END,
    lease_expires_at = NULL
FROM (
    SELECT value ->> '$.id' AS id, value ->> '$.claim' AS claim, value ->> '$.kind' AS kind,
           value ->> '$.result' AS result, value ->> '$.message' AS message,
           value ->> '$.retry_at' AS retry_at, value ->> '$.started' AS started
    FROM json_each(?1)
) AS t
WHERE j.id = t.id AND j.claims = t.claim AND j.status = 'running'
RETURNING id, status, workflow_id
