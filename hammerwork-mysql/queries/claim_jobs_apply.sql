-- Marks the jobs claim_jobs.sql just locked as running, in the same
-- transaction, reading them by primary key. The status guard never filters
-- while the locks are held; the caller checks that every row changed.
-- A first claim sets started_at and lease_expires_at (16 bytes, NULL
-- before) and takes 16 of the row's 24 bytes of room; a later one sets only
-- the lease and takes the rest: either way the row does not grow
-- (migration 16). room comes first: it reads started_at as it was.
-- FORCE INDEX (PRIMARY): see keyed.rs.
-- Params: now, lease_until, then the ids (the list as keyed.rs expands its
-- marker).
UPDATE hammerwork_jobs FORCE INDEX (PRIMARY)
SET room = CASE WHEN started_at IS NULL THEN '........' END,
    status = 'running',
    attempts = attempts + 1,
    claims = claims + 1,
    started_at = ?,
    lease_expires_at = ?
WHERE id IN (/* ids */)
  AND status IN ('pending', 'retrying')
