-- The attempt of a job, if it is still the running one, locked (a parent
-- that awaits its children holds its dependents before it completes).
-- Params: id, attempt.
SELECT id
FROM hammerwork_jobs
WHERE id = ? AND attempts = ? AND status = 'running'
FOR UPDATE
