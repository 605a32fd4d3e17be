-- Whether the jobs table needs a VACUUM (Storage::reclaim_space): its dead
-- row versions passed 50,000 plus a tenth of its live rows, no vacuum (ours
-- or autovacuum's) ended in the last 2 seconds, and the connection's role
-- may vacuum it (it has the owner's privileges, or is a superuser). A claim
-- walks the claim index in due order, and the entries of jobs claimed since
-- the last vacuum stay in front of the waiting ones until a vacuum.
SELECT 1 AS due
FROM pg_stat_user_tables AS s
JOIN pg_class AS c ON c.oid = s.relid
WHERE s.relid = 'hammerwork_jobs'::regclass
  AND s.n_dead_tup >= 50000 + s.n_live_tup / 10
  AND COALESCE(GREATEST(s.last_vacuum, s.last_autovacuum), '-infinity') < now() - interval '2 seconds'
  AND (pg_has_role(c.relowner, 'USAGE')
       OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user))
