-- Runs first when migrating (the transaction's BEGIN IMMEDIATE already holds
-- the write lock): creates the table of applied migrations.
CREATE TABLE IF NOT EXISTS hammerwork_migrations (
    version    INTEGER NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL -- microseconds since the Unix epoch
) STRICT;
