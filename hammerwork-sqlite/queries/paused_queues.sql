SELECT name FROM hammerwork_queues WHERE paused_at IS NOT NULL ORDER BY name
