-- Runs first when migrating (under the migration's GET_LOCK): creates the
-- table of applied migrations.
CREATE TABLE IF NOT EXISTS hammerwork_migrations (
    version    BIGINT       NOT NULL PRIMARY KEY,
    name       VARCHAR(255) NOT NULL,
    applied_at DATETIME(6)  NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4
