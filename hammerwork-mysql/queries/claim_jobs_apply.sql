-- Marks the jobs claim_jobs.sql just locked as running, in the same
-- transaction. The status guard never filters while the locks are held; the
-- caller checks that every row changed.
-- Params: ids (JSON array of hex ids), now, lease_until.
UPDATE JSON_TABLE(?, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_jobs AS j ON j.id = UNHEX(t.id)
SET j.status = 'running',
    j.attempts = j.attempts + 1,
    j.claims = j.claims + 1,
    j.started_at = ?,
    j.lease_expires_at = ?
WHERE j.status IN ('pending', 'retrying')
