SELECT * FROM hammerwork_jobs WHERE id = ANY($1::uuid[]) ORDER BY id
