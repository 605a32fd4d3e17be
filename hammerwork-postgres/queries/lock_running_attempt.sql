-- The attempt $2 of job $1, if it is still the running one (locked).
SELECT id FROM hammerwork_jobs
WHERE id = $1 AND attempts = $2 AND status = 'running'
FOR UPDATE
