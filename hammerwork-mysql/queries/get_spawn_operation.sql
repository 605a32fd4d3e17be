-- Params: id.
SELECT * FROM hammerwork_spawn_operations WHERE id = ?
