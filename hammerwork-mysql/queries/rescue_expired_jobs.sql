-- Locks, by primary key, those of the jobs rescue_candidates.sql found that
-- are still running with an ended lease, skipping rows a worker is settling
-- or heartbeating right now, each with the status rescue_expired_jobs_apply.sql
-- gives it.
-- FORCE INDEX (PRIMARY): see keyed.rs.
-- Params: now, then the ids (the list as keyed.rs expands its marker).
SELECT id, workflow_id, has_dependents,
       CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'pending' END AS status
FROM hammerwork_jobs FORCE INDEX (PRIMARY)
WHERE status = 'running'
  AND lease_expires_at < ?
  AND id IN (/* ids */)
FOR UPDATE SKIP LOCKED
