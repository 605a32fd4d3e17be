-- Gives queue ?1 its row in hammerwork_queues if it has none (a no-op
-- otherwise); then that row, locked, unless the queue is paused already
-- (pause_queue_apply.sql then pauses it).
-- Params: name, paused_at.
INSERT INTO hammerwork_queues (name) VALUES (?1)
ON DUPLICATE KEY UPDATE name = name
;
SELECT name FROM hammerwork_queues WHERE name = ?1 AND paused_at IS NULL FOR UPDATE
