-- Deletes jobs ?1 (a JSON array of ids; the caller deleted their edges and
-- spawn operations first).
DELETE FROM hammerwork_jobs WHERE id IN (SELECT value FROM json_each(?1))
