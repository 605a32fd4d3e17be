SELECT * FROM hammerwork_jobs WHERE id IN (SELECT value FROM json_each(?1)) ORDER BY id
