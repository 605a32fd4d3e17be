-- Takes or renews role $1 for holder $2 until $3 microseconds from now (the
-- server's clock): only when the role is free, already $2's, or expired. A row
-- comes back exactly when $2 leads.
INSERT INTO hammerwork_leaders AS l (role, holder, expires_at)
VALUES ($1, $2, clock_timestamp() + $3::bigint * interval '1 microsecond')
ON CONFLICT (role) DO UPDATE
SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
WHERE l.holder = EXCLUDED.holder OR l.expires_at < clock_timestamp()
RETURNING holder
