-- The fence of a lease: how many times the job was claimed, ever. Unlike
-- attempts (an unstarted give-back takes one back, a workflow retry starts
-- over at 0) it never goes back, so the heartbeat or outcome of a stale claim
-- can never match a later one. A constant default: no table rewrite.
ALTER TABLE hammerwork_jobs ADD COLUMN claims BIGINT NOT NULL DEFAULT 0;
