-- Runs first when migrating: waits for any other migrator (any process, any
-- schema; the lock is held until this transaction ends), then creates the
-- table of applied migrations.
SELECT pg_advisory_xact_lock(114767657002354); -- 0x68616d6d6572, "hammer"
CREATE TABLE IF NOT EXISTS hammerwork_migrations (
    version BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
