-- The stored jobs a batch depends on, locked so none finishes between this
-- read and the batch's insert (a finishing parent then sees the new edges).
-- Ends before its lock clause: tx.rs takes them shared, or exclusively when
-- one of them is to be flagged as having dependents (see
-- lock_stored_parents_mark.sql).
SELECT id, status, result
FROM hammerwork_jobs
WHERE id = ANY($1::uuid[])
ORDER BY id
