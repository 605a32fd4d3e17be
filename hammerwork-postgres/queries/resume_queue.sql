-- Clears the pause of queue $1; returns a row when it was paused.
UPDATE hammerwork_queues
SET paused_at = NULL
WHERE name = $1 AND paused_at IS NOT NULL
