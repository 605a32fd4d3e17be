-- Marks queue ?1 paused since ?2 (pause_queue.sql locked its row).
-- Params: name, paused_at.
UPDATE hammerwork_queues SET paused_at = ?2 WHERE name = ?1
