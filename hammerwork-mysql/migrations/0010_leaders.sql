-- Leadership leases: one row per role (the cron scheduler, ...), held by one
-- process until expires_at and renewed by it; another takes it over only once
-- it has expired (or was given up).
CREATE TABLE IF NOT EXISTS hammerwork_leaders (
    role       VARCHAR(64)  NOT NULL PRIMARY KEY,
    holder     VARCHAR(128) NOT NULL,
    expires_at DATETIME(6)  NOT NULL
) ENGINE = InnoDB;
