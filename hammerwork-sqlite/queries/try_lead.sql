-- Takes or renews role ?1 for holder ?2 until ?4 (microseconds), ?3 being now:
-- only when the role is free, already ?2's, or expired. A row comes back
-- exactly when ?2 leads.
INSERT INTO hammerwork_leaders (role, holder, expires_at)
VALUES (?1, ?2, ?4)
ON CONFLICT (role) DO UPDATE
SET holder = excluded.holder, expires_at = excluded.expires_at
WHERE hammerwork_leaders.holder = excluded.holder OR hammerwork_leaders.expires_at < ?3
RETURNING holder
