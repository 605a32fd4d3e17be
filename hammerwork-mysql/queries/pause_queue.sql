-- Marks the queue paused unless it is paused already (after
-- pause_queue_row.sql). Params: paused_at, name.
UPDATE hammerwork_queues SET paused_at = ? WHERE name = ? AND paused_at IS NULL
