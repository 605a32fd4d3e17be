-- The stored jobs a batch depends on, locked so none finishes between this
-- read and the batch's insert (a parent settled later sees the new edges).
-- An exclusive lock, as lock_stored_parents_apply.sql then flags them.
-- Params: ids (JSON array of hex ids, sorted).
SELECT j.id, j.status, j.result
FROM JSON_TABLE(?, '$[*]' COLUMNS (id CHAR(32) PATH '$')) AS t
STRAIGHT_JOIN hammerwork_jobs AS j ON j.id = UNHEX(t.id)
FOR UPDATE
