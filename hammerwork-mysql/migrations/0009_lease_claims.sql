-- The fence of a lease: how many times the job was claimed, ever. Unlike
-- attempts (an unstarted give-back takes one back, a workflow retry starts
-- over at 0) it never goes back, so the heartbeat or outcome of a stale claim
-- can never match a later one. Safe to re-run: added only when missing (MySQL
-- 8 has no ADD COLUMN IF NOT EXISTS).
SET @hammerwork_ddl = IF(
    (SELECT COUNT(*) FROM information_schema.columns
     WHERE table_schema = DATABASE() AND table_name = 'hammerwork_jobs'
       AND column_name = 'claims') = 0,
    'ALTER TABLE hammerwork_jobs ADD COLUMN claims BIGINT NOT NULL DEFAULT 0',
    'DO 0');
PREPARE hammerwork_stmt FROM @hammerwork_ddl;
EXECUTE hammerwork_stmt;
DEALLOCATE PREPARE hammerwork_stmt;
