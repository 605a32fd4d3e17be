-- Inserts a batch given as one JSON array (hammerwork_api::driver::JobRecord:
-- ids as UUID text, timestamps in microseconds since the epoch, JSON values
-- as their JSON text), in the initial states plan_enqueue gave it: one
-- statement and one prepared statement whatever the batch size. A job that
-- is not pending ends when written, stamped with the operation's clock; a
-- job with a cron schedule is its series' live occurrence.
-- Params: jobs (JSON array), now.
INSERT INTO hammerwork_jobs (
    id, queue_name, payload, status, priority, attempts, max_attempts,
    created_at, scheduled_at, completed_at, timeout_ms, retry_policy, trace_id, correlation_id,
    depends_on, dependency_status, pending_dependencies, workflow_id, `condition`,
    error_message, has_dependents, cron_schedule, cron_live,
    parent_job_id, spawn_operation_id, spawn_depth
)
SELECT UNHEX(REPLACE(t.id, '-', '')), t.queue_name, t.payload, t.status, t.priority, 0,
       t.max_attempts,
       TIMESTAMPADD(MICROSECOND, t.created_at, TIMESTAMP '1970-01-01 00:00:00'),
       TIMESTAMPADD(MICROSECOND, t.scheduled_at, TIMESTAMP '1970-01-01 00:00:00'),
       CASE WHEN t.status = 'pending' THEN NULL ELSE n.now END,
       t.timeout_ms, t.retry_policy, t.trace_id, t.correlation_id,
       CASE WHEN t.depends_on = '[]' THEN NULL ELSE t.depends_on END,
       t.dependency_status, t.pending_dependencies, UNHEX(REPLACE(t.workflow_id, '-', '')),
       t.`condition`, t.error_message, t.has_dependents = 'true', t.cron_schedule,
       CASE WHEN t.cron_schedule IS NULL THEN NULL ELSE 1 END,
       UNHEX(REPLACE(t.parent_job_id, '-', '')), t.spawn_operation_id, t.spawn_depth
FROM JSON_TABLE(?, '$[*]' COLUMNS (
         id                   CHAR(36)       PATH '$.id',
         queue_name           VARCHAR(255)   PATH '$.queue_name',
         payload              LONGTEXT       PATH '$.payload',
         priority             SMALLINT       PATH '$.priority',
         max_attempts         INT            PATH '$.max_attempts',
         created_at           BIGINT         PATH '$.created_at',
         scheduled_at         BIGINT         PATH '$.scheduled_at',
         timeout_ms           BIGINT         PATH '$.timeout_ms',
         retry_policy         LONGTEXT       PATH '$.retry_policy',
         trace_id             TEXT           PATH '$.trace_id',
         correlation_id       TEXT           PATH '$.correlation_id',
         status               VARCHAR(16)    PATH '$.status',
         depends_on           LONGTEXT       PATH '$.depends_on',
         dependency_status    VARCHAR(16)    PATH '$.dependency_status',
         pending_dependencies INT            PATH '$.pending_dependencies',
         workflow_id          CHAR(36)       PATH '$.workflow_id',
         `condition`          TEXT           PATH '$.condition',
         error_message        LONGTEXT       PATH '$.error_message',
         cron_schedule        TEXT           PATH '$.cron_schedule',
         parent_job_id        CHAR(36)       PATH '$.parent_job_id',
         spawn_operation_id   VARCHAR(255)   PATH '$.spawn_operation_id',
         spawn_depth          INT            PATH '$.spawn_depth',
         has_dependents       VARCHAR(5)     PATH '$.has_dependents'
     )) AS t
CROSS JOIN (SELECT CAST(? AS DATETIME(6)) AS now) AS n
