-- Marks queue ?1 paused since ?2 (microseconds) unless it is paused already;
-- returns a row when it changed.
INSERT INTO hammerwork_queues (name, paused_at)
VALUES (?1, ?2)
ON CONFLICT (name) DO UPDATE SET paused_at = excluded.paused_at
WHERE hammerwork_queues.paused_at IS NULL
RETURNING name
