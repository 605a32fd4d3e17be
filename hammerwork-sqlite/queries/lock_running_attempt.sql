-- Job ?1 if its claim ?2 is still the running one. Read inside the
-- caller's write transaction: SQLite has one writer, so it cannot change
-- before the transaction ends.
SELECT id FROM hammerwork_jobs
WHERE id = ?1 AND claims = ?2 AND status = 'running'
