-- The stored jobs a batch depends on, locked so none finishes between this
-- read and the batch's insert (a finishing parent then sees the new edges).
SELECT id, status, result
FROM hammerwork_jobs
WHERE id = ANY($1::uuid[])
ORDER BY id
FOR SHARE
