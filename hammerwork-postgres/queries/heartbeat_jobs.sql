UPDATE hammerwork_jobs AS j
SET lease_expires_at = $3
FROM UNNEST($1::uuid[], $2::bigint[]) AS t(id, claim)
WHERE j.id = t.id AND j.claims = t.claim AND j.status = 'running'
