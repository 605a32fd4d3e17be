SELECT id FROM hammerwork_jobs WHERE id IN (SELECT value FROM json_each(?1)) LIMIT 1
