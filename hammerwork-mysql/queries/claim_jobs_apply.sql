-- Marks the jobs claim_jobs.sql just locked as running, in the same
-- transaction, reading them by primary key. Taking 16 bytes of room keeps
-- each row's size (migration 16). The status guard never filters while the
-- locks are held; the caller checks that every row changed.
-- Params: now, lease_until, then the ids (the list as keyed.rs expands its
-- marker).
UPDATE hammerwork_jobs
SET status = 'running',
    attempts = attempts + 1,
    claims = claims + 1,
    started_at = ?,
    lease_expires_at = ?,
    room = '........'
WHERE id IN (/* ids */)
  AND status IN ('pending', 'retrying')
