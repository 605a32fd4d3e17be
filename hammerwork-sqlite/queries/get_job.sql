SELECT * FROM hammerwork_jobs WHERE id = ?1
