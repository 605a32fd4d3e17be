UPDATE hammerwork_jobs AS j
SET lease_expires_at = $3
FROM UNNEST($1::uuid[], $2::int[]) AS t(id, attempt)
WHERE j.id = t.id AND j.attempts = t.attempt AND j.status = 'running'
