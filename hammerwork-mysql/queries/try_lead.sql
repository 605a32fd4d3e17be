-- Takes or renews role ?1 for holder ?2 until ?3 microseconds from now (the
-- server's clock): only when the role is free, already ?2's, or expired.
-- Assignments run left to right: once holder is set, expires_at moves only if
-- it is ?2's. (Each parameter is bound once per use: no VALUES(), which MySQL
-- 8 deprecates, nor the row alias MariaDB lacks.)
INSERT INTO hammerwork_leaders (role, holder, expires_at)
VALUES (?, ?, UTC_TIMESTAMP(6) + INTERVAL ? MICROSECOND)
ON DUPLICATE KEY UPDATE
    holder = IF(holder = ? OR expires_at < UTC_TIMESTAMP(6), ?, holder),
    expires_at = IF(holder = ?, UTC_TIMESTAMP(6) + INTERVAL ? MICROSECOND, expires_at)
