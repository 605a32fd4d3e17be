-- A job if its claim is still the running one, locked (a parent
-- that awaits its children holds its dependents before it completes).
-- Params: id, claim.
SELECT id
FROM hammerwork_jobs
WHERE id = ? AND claims = ? AND status = 'running'
FOR UPDATE
