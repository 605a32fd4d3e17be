-- Deletes the jobs ?1 (a JSON array of ids) of workflows being pruned, their
-- edges either way and spawn operations went first.
DELETE FROM hammerwork_jobs WHERE id IN (SELECT value FROM json_each(?1))
