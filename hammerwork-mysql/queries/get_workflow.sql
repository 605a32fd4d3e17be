-- Params: id.
SELECT * FROM hammerwork_workflows WHERE id = ?
