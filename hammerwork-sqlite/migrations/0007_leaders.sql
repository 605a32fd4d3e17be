-- Leadership leases: one row per role (the cron scheduler, ...), held by one
-- process until expires_at (microseconds) and renewed by it; another takes it
-- over only once it has expired (or was given up).
CREATE TABLE hammerwork_leaders (
    role       TEXT    NOT NULL PRIMARY KEY,
    holder     TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
