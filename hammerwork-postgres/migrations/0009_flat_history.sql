-- Keeping claims and listings flat as finished jobs pile up
-- (docs/design/engine.md, "Flat under history").
--
-- The scheduler lists live occurrences in id order. An index in that order
-- over them alone: no plan, not even one made before the table was ever
-- analysed, walks every job by primary key to skip a sort.
DROP INDEX hammerwork_jobs_cron_due;
CREATE INDEX hammerwork_jobs_cron_live
    ON hammerwork_jobs (id)
    WHERE cron_live IS NOT NULL;

-- The rescuer's index, over leased jobs. Its predicate was status =
-- 'running', which every settle and heartbeat (WHERE id = ... AND status =
-- 'running') also implies: statistics taken while few jobs ran made the
-- planner read all running jobs through it for each settle, instead of
-- each job by primary key. Only a lease (running jobs have one, and only
-- they) is in this predicate, which those statements do not imply.
DROP INDEX hammerwork_jobs_lease;
CREATE INDEX hammerwork_jobs_lease
    ON hammerwork_jobs (lease_expires_at)
    WHERE lease_expires_at IS NOT NULL;

-- Each job is written three times (enqueued, claimed, settled) and each
-- write leaves a dead row version and index entries behind until a vacuum.
-- Autovacuum visits the table after 2% of it changed rather than 20%.
ALTER TABLE hammerwork_jobs SET (
    autovacuum_vacuum_scale_factor = 0.02,
    autovacuum_vacuum_insert_scale_factor = 0.02,
    autovacuum_analyze_scale_factor = 0.02
);
