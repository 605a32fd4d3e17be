-- Gives queue ? its row in hammerwork_queues if it has none (a no-op
-- otherwise), locking it.
INSERT INTO hammerwork_queues (name) VALUES (?)
ON DUPLICATE KEY UPDATE name = name
