-- A plain INSERT, not INSERT IGNORE (which would also turn a too-long id or
-- bad metadata into a warning): complete_and_spawn maps its duplicate-key
-- error to SpawnError::DuplicateOperation.
-- Params: id, parent_job_id, queue_name, handler, child_count, batch_count,
-- metadata (JSON text or NULL), created_at, await_children.
INSERT INTO hammerwork_spawn_operations (
    id, parent_job_id, queue_name, handler, child_count, batch_count, metadata, created_at,
    await_children
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
