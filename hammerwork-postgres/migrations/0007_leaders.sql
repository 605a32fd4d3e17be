-- Leadership leases: one row per role (the cron scheduler, ...), held by one
-- process until expires_at and renewed by it; another takes it over only once
-- it has expired (or was given up).
CREATE TABLE IF NOT EXISTS hammerwork_leaders (
    role       TEXT        PRIMARY KEY,
    holder     TEXT        NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
