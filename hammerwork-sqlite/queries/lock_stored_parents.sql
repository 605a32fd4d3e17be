-- The stored jobs a batch depends on (?1: a JSON array of ids). Read inside
-- the batch's write transaction (BEGIN IMMEDIATE): SQLite has one writer, so
-- none of them can finish between this read and the insert.
SELECT id, status, result
FROM hammerwork_jobs
WHERE id IN (SELECT value FROM json_each(?1))
