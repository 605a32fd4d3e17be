-- Completes attempts that returned no result (the common outcome) of jobs
-- outside any workflow that nothing depends on, each only if its attempt is
-- still the job's running one: settle_attempts.sql's outcome for them, as a
-- single-table UPDATE (the rest of the row's room goes: migration 16).
-- `id IN` reads the rows by primary key (the row comparison alone is not a
-- range on MariaDB when it holds one pair); the pairs keep the current
-- attempts. MariaDB reads JSON_TABLE rows and updates through a join far
-- slower than this.
-- Params: now, the ids, then (id, claim) pairs: each list as keyed.rs
-- expands its marker.
UPDATE hammerwork_jobs
SET status = 'completed',
    result = NULL,
    completed_at = ?,
    lease_expires_at = NULL,
    room = NULL
WHERE id IN (/* ids */)
  AND (id, claims) IN (/* pairs */)
  AND status = 'running'
  AND has_dependents = 0
  AND workflow_id IS NULL
