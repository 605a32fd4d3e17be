INSERT INTO hammerwork_spawn_operations (
    id, parent_job_id, queue_name, handler, child_count, batch_count, metadata, created_at,
    await_children
) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT DO NOTHING
