-- Params: id.
SELECT * FROM hammerwork_jobs WHERE id = ?
