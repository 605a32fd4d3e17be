SELECT id FROM hammerwork_jobs WHERE id = ANY($1::uuid[]) LIMIT 1
