-- Applies a batch of attempt outcomes, each only if its attempt is still the
-- job's running one, as hammerwork_api::driver::SettleRecord flattens it.
-- Per outcome ($3 kind): completed (result $4, JSON text); failed (error
-- $5, retry at $6 in microseconds: retrying while attempts are left, else
-- dead);
-- cancelled (reason $5); given_back ($7: whether the handler started; an
-- attempt that never started is not counted, one interrupted on the last
-- attempt ends dead, as a lease rescue would make it). $8 is the clock.
-- Parallel arrays through UNNEST, not a JSON document: the planner then
-- updates by primary key (a JSON record set is estimated at 100 rows and
-- hash-joined against every running job). The attempt's checks are one CASE,
-- which the planner neither estimates from statistics nor reads through an
-- index: statistics taken while no job ran once made `status = 'running'`
-- look like one row, and the plan scanned the table and joined every running
-- job against every outcome (900 outcomes took 0.4 s, the next larger
-- batches seconds).
-- Ends inside that CASE: SETTLE_ATTEMPTS (tx.rs) closes it and returns the
-- transitions, SETTLE_INDEPENDENT (driver.rs) adds that the job needs
-- nothing else done, then closes it.
UPDATE hammerwork_jobs AS j
SET status = CASE t.kind
        WHEN 'failed' THEN
            CASE WHEN t.retry_at IS NULL OR j.attempts >= j.max_attempts THEN 'dead' ELSE 'retrying' END
        WHEN 'given_back' THEN
            CASE WHEN t.started AND j.attempts >= j.max_attempts THEN 'dead' ELSE 'pending' END
        ELSE t.kind
    END,
    result = CASE WHEN t.kind = 'completed' THEN t.result::jsonb ELSE j.result END,
    error_message = CASE
        WHEN t.kind IN ('failed', 'cancelled') THEN t.message
        WHEN t.kind = 'given_back' AND t.started AND j.attempts >= j.max_attempts
            THEN 'interrupted by shutdown on its last attempt'
        ELSE j.error_message
    END,
    completed_at = CASE WHEN t.kind IN ('completed', 'cancelled') THEN $8 ELSE j.completed_at END,
    failed_at = CASE
        WHEN t.kind = 'failed' OR (t.kind = 'given_back' AND t.started AND j.attempts >= j.max_attempts)
            THEN $8
        ELSE j.failed_at
    END,
    scheduled_at = CASE t.kind
        WHEN 'failed' THEN
            -- Whole seconds, then the rest: exact to the microsecond up to
            -- the year 9999, where a float of microseconds is not.
            COALESCE(to_timestamp(t.retry_at / 1000000)
                         + (t.retry_at % 1000000) * interval '1 microsecond',
                     j.scheduled_at)
        WHEN 'given_back' THEN $8
        ELSE j.scheduled_at
    END,
    attempts = CASE WHEN t.kind = 'given_back' AND NOT t.started THEN j.attempts - 1 ELSE j.attempts END,
    lease_expires_at = NULL
FROM UNNEST($1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bool[])
    AS t(id, claim, kind, result, message, retry_at, started)
WHERE j.id = t.id
  AND CASE WHEN j.claims = t.claim AND j.status = 'running'
