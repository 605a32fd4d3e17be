-- Records a migration as applied.
-- Params: version, name, applied_at.
INSERT INTO hammerwork_migrations (version, name, applied_at) VALUES (?, ?, ?)
