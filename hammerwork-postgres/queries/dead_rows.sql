-- What the engine's Storage::reclaim_space decides by, for the jobs table: its dead and
-- live row versions by the statistics, whether the connection's role may
-- vacuum it (it has the owner's privileges, or is a superuser), whether a
-- vacuum of it is running now, and whether one (ours or autovacuum's) ended
-- in the last 2 seconds. A claim walks the claim index in due order, and the
-- entries of jobs claimed since the last vacuum stay in front of the waiting
-- ones until a vacuum.
SELECT s.n_dead_tup AS dead,
       s.n_live_tup AS live,
       COALESCE(pg_has_role(c.relowner, 'USAGE')
        OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false) AS allowed,
       EXISTS (SELECT 1 FROM pg_stat_progress_vacuum AS p WHERE p.relid = s.relid) AS running,
       COALESCE(GREATEST(s.last_vacuum, s.last_autovacuum), '-infinity')
           > now() - interval '2 seconds' AS recent
FROM pg_stat_user_tables AS s
JOIN pg_class AS c ON c.oid = s.relid
WHERE s.relid = 'hammerwork_jobs'::regclass
