-- Locks, by primary key, those of the jobs rescue_candidates.sql found that
-- are still running with an ended lease, skipping rows a worker is settling
-- or heartbeating right now.
-- Params: ids (the list as keyed.rs expands its marker), now.
SELECT id
FROM hammerwork_jobs
WHERE id IN (/* ids */)
  AND status = 'running'
  AND lease_expires_at < ?
FOR UPDATE SKIP LOCKED
