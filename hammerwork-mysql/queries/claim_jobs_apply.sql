-- Marks the jobs claim_jobs.sql just locked as running, in the same
-- transaction, reading them by primary key. The status guard never filters
-- while the locks are held; the caller checks that every row changed.
-- The row must not grow (migration 16). A first claim sets started_at and
-- lease_expires_at (16 bytes, NULL before), and the job's phase columns
-- (migration 17) go from ready to running: phase 2 bytes longer, phase_rank
-- and phase_at NULL (10 bytes fewer); it takes 8 of the row's 24 bytes of
-- room. A later one sets only the lease and takes the rest. room comes
-- first: it reads started_at as it was.
-- FORCE INDEX (PRIMARY): see keyed.rs.
-- Params: now, lease_until, then the ids (the list as keyed.rs expands its
-- marker).
UPDATE hammerwork_jobs FORCE INDEX (PRIMARY)
SET room = CASE WHEN started_at IS NULL THEN '................' END,
    status = 'running',
    attempts = attempts + 1,
    claims = claims + 1,
    started_at = ?,
    lease_expires_at = ?
WHERE id IN (/* ids */)
  AND status IN ('pending', 'retrying')
