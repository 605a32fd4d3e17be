-- Extends the leases of running attempts. The attempt's checks are one CASE,
-- so the jobs are read by primary key whatever the statistics say (see
-- settle_attempts.sql).
UPDATE hammerwork_jobs AS j
SET lease_expires_at = $3
FROM UNNEST($1::uuid[], $2::bigint[]) AS t(id, claim)
WHERE j.id = t.id
  AND CASE WHEN j.claims = t.claim AND j.status = 'running' THEN true ELSE false END
