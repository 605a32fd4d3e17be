-- The attempt ?2 of job ?1, if it is still the running one. Read inside the
-- caller's write transaction: SQLite has one writer, so it cannot change
-- before the transaction ends.
SELECT id FROM hammerwork_jobs
WHERE id = ?1 AND attempts = ?2 AND status = 'running'
