-- Deletes workflow rows ?1 (a JSON array of ids) being pruned (their jobs
-- went first).
DELETE FROM hammerwork_workflows WHERE id IN (SELECT value FROM json_each(?1))
