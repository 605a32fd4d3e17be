-- Completes attempts that returned no result (the common outcome) of jobs
-- outside any workflow that nothing depends on, each only if its attempt is
-- still the job's running one: settle_attempts.sql's outcome for them, as a
-- single-table UPDATE (the rest of the row's room goes: migration 16).
-- `id IN` reads the rows by primary key; the attempts of one statement are
-- of one claim number, so `claims = ?` keeps the current ones (comparing
-- each row with a list of (id, claim) pairs, one by one, took MariaDB a
-- third of the update's time). MariaDB reads JSON_TABLE rows and updates
-- through a join far slower than this.
-- FORCE INDEX (PRIMARY): see keyed.rs.
-- Params: now, claim, then the ids (the list as keyed.rs expands its
-- marker).
UPDATE hammerwork_jobs FORCE INDEX (PRIMARY)
SET status = 'completed',
    result = NULL,
    completed_at = ?,
    lease_expires_at = NULL,
    room = NULL
WHERE claims = ?
  AND status = 'running'
  AND has_dependents = 0
  AND workflow_id IS NULL
  AND id IN (/* ids */)
