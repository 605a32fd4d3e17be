-- Clears the pause of queue ?; changes a row when it was paused.
UPDATE hammerwork_queues SET paused_at = NULL WHERE name = ? AND paused_at IS NOT NULL
