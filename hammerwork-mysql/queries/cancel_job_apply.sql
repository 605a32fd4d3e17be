-- Cancels job ?1 (locked by cancel_job.sql) at ?2; its lease ends, so a
-- running attempt's outcome is then ignored.
-- Params: id, now.
UPDATE hammerwork_jobs
SET status = 'cancelled',
    error_message = 'cancelled',
    completed_at = ?2,
    lease_expires_at = NULL
WHERE id = ?1 AND status IN ('pending', 'retrying', 'running')
