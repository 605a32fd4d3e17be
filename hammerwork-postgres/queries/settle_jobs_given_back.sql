-- An attempt that never started is not counted.
UPDATE hammerwork_jobs AS j
SET status = 'pending',
    attempts = CASE WHEN t.started THEN j.attempts ELSE j.attempts - 1 END,
    scheduled_at = $3,
    lease_expires_at = NULL
FROM UNNEST($1::uuid[], $2::int[], $4::bool[]) AS t(id, attempt, started)
WHERE j.id = t.id AND j.attempts = t.attempt AND j.status = 'running'
