-- ?1: a JSON array of {"id", "claim"}.
UPDATE hammerwork_jobs AS j
SET lease_expires_at = ?2
FROM (
    SELECT value ->> '$.id' AS id, value ->> '$.claim' AS claim
    FROM json_each(?1)
) AS t
WHERE j.id = t.id AND j.claims = t.claim AND j.status = 'running'
