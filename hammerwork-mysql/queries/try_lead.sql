-- Takes or renews role ?1 for holder ?2 until ?3 microseconds from now (the
-- server's clock): only when the role is free, already ?2's, or expired.
-- Assignments run left to right: once holder is set, expires_at moves only if
-- it is ?2's. (No VALUES(), which MySQL 8 deprecates, nor the row alias
-- MariaDB lacks.)
INSERT INTO hammerwork_leaders (role, holder, expires_at)
VALUES (?1, ?2, UTC_TIMESTAMP(6) + INTERVAL ?3 MICROSECOND)
ON DUPLICATE KEY UPDATE
    holder = IF(holder = ?2 OR expires_at < UTC_TIMESTAMP(6), ?2, holder),
    expires_at = IF(holder = ?2, UTC_TIMESTAMP(6) + INTERVAL ?3 MICROSECOND, expires_at)
