-- Job $1 if its claim $2 is still the running one (locked).
SELECT id FROM hammerwork_jobs
WHERE id = $1 AND claims = $2 AND status = 'running'
FOR UPDATE
