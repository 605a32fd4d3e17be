use std::time::Duration;

use chrono::{DateTime, Utc};
use hammerwork_api::spawn::SpawnOperation;
use hammerwork_api::workflow::{JobGroup, Workflow, WorkflowId, WorkflowStats};
use hammerwork_api::{Error, Job, JobId, JobPriority, Result};
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::Row;
use uuid::Uuid;

/// Builds a [`Job`] from a `hammerwork_jobs` row (`SELECT *` / `RETURNING *`).
pub(crate) fn job_from_row(row: &PgRow) -> Result<Job> {
    let get_err = |e: sqlx::Error| Error::backend(e);
    let status: String = row.try_get("status").map_err(get_err)?;
    let retry_policy: Option<Value> = row.try_get("retry_policy").map_err(get_err)?;
    let timeout_ms: Option<i64> = row.try_get("timeout_ms").map_err(get_err)?;

    let mut job = Job::new(
        row.try_get::<String, _>("queue_name").map_err(get_err)?,
        row.try_get::<Value, _>("payload").map_err(get_err)?,
    );
    job.id = JobId(row.try_get::<Uuid, _>("id").map_err(get_err)?);
    job.status = status.parse()?;
    job.priority = JobPriority::from_i16(row.try_get("priority").map_err(get_err)?);
    job.attempts = row.try_get("attempts").map_err(get_err)?;
    job.max_attempts = row.try_get("max_attempts").map_err(get_err)?;
    job.created_at = row
        .try_get::<DateTime<Utc>, _>("created_at")
        .map_err(get_err)?;
    job.scheduled_at = row.try_get("scheduled_at").map_err(get_err)?;
    job.started_at = row.try_get("started_at").map_err(get_err)?;
    job.completed_at = row.try_get("completed_at").map_err(get_err)?;
    job.failed_at = row.try_get("failed_at").map_err(get_err)?;
    job.lease_expires_at = row.try_get("lease_expires_at").map_err(get_err)?;
    job.timeout = timeout_ms.map(|ms| Duration::from_millis(ms.max(0) as u64));
    job.error_message = row.try_get("error_message").map_err(get_err)?;
    job.result = row.try_get("result").map_err(get_err)?;
    job.retry_policy = retry_policy
        .map(serde_json::from_value)
        .transpose()
        .map_err(Error::backend)?;
    job.trace_id = row.try_get("trace_id").map_err(get_err)?;
    job.correlation_id = row.try_get("correlation_id").map_err(get_err)?;
    let depends_on: Value = row.try_get("depends_on").map_err(get_err)?;
    job.depends_on = serde_json::from_value(depends_on).map_err(Error::backend)?;
    job.dependency_status = row
        .try_get::<String, _>("dependency_status")
        .map_err(get_err)?
        .parse()?;
    job.pending_dependencies = row.try_get("pending_dependencies").map_err(get_err)?;
    job.workflow_id = row
        .try_get::<Option<Uuid>, _>("workflow_id")
        .map_err(get_err)?
        .map(WorkflowId);
    job.condition = row.try_get("condition").map_err(get_err)?;
    job.cron_schedule = row.try_get("cron_schedule").map_err(get_err)?;
    job.next_occurrence = row
        .try_get::<Option<Uuid>, _>("next_occurrence")
        .map_err(get_err)?
        .map(JobId);
    job.parent_job_id = row
        .try_get::<Option<Uuid>, _>("parent_job_id")
        .map_err(get_err)?
        .map(JobId);
    job.spawn_operation_id = row.try_get("spawn_operation_id").map_err(get_err)?;
    job.spawn_depth = row
        .try_get::<i32, _>("spawn_depth")
        .map_err(get_err)?
        .max(0) as u32;
    Ok(job)
}

/// Builds a [`Workflow`] from a `hammerwork_workflows` row.
pub(crate) fn workflow_from_row(row: &PgRow) -> Result<Workflow> {
    let get_err = |e: sqlx::Error| Error::backend(e);
    let count = |name: &str| -> Result<u64> {
        Ok(row.try_get::<i64, _>(name).map_err(get_err)?.max(0) as u64)
    };
    let mut stats = WorkflowStats::default();
    stats.total_jobs = count("total_jobs")?;
    stats.pending_jobs = count("pending_jobs")?;
    stats.running_jobs = count("running_jobs")?;
    stats.completed_jobs = count("completed_jobs")?;
    stats.failed_jobs = count("failed_jobs")?;
    stats.skipped_jobs = count("skipped_jobs")?;
    stats.cancelled_jobs = count("cancelled_jobs")?;
    let mut workflow = Workflow::from_group(&JobGroup::new(
        row.try_get::<String, _>("name").map_err(get_err)?,
    ));
    workflow.id = WorkflowId(row.try_get("id").map_err(get_err)?);
    workflow.description = row.try_get("description").map_err(get_err)?;
    workflow.failure_policy = row
        .try_get::<String, _>("failure_policy")
        .map_err(get_err)?
        .parse()?;
    workflow.state = row
        .try_get::<String, _>("state")
        .map_err(get_err)?
        .parse()?;
    workflow.created_at = row.try_get("created_at").map_err(get_err)?;
    workflow.deadline_at = row.try_get("deadline_at").map_err(get_err)?;
    workflow.stats = stats;
    workflow.cron_schedule = row.try_get("cron_schedule").map_err(get_err)?;
    workflow.timeout = row
        .try_get::<Option<i64>, _>("timeout_ms")
        .map_err(get_err)?
        .map(|ms| Duration::from_millis(ms.max(0) as u64));
    workflow.next_occurrence = row
        .try_get::<Option<Uuid>, _>("next_occurrence")
        .map_err(get_err)?
        .map(WorkflowId);
    Ok(workflow)
}

/// Builds a [`SpawnOperation`] from a `hammerwork_spawn_operations` row.
pub(crate) fn spawn_operation_from_row(row: &PgRow) -> Result<SpawnOperation> {
    let get_err = |e: sqlx::Error| Error::backend(e);
    let count = |name: &str| -> Result<u64> {
        Ok(row.try_get::<i64, _>(name).map_err(get_err)?.max(0) as u64)
    };
    Ok(SpawnOperation {
        id: row.try_get("id").map_err(get_err)?,
        parent_job_id: JobId(row.try_get("parent_job_id").map_err(get_err)?),
        queue_name: row.try_get("queue_name").map_err(get_err)?,
        handler: row.try_get("handler").map_err(get_err)?,
        child_count: count("child_count")?,
        batch_count: count("batch_count")?,
        metadata: row.try_get("metadata").map_err(get_err)?,
        created_at: row.try_get("created_at").map_err(get_err)?,
    })
}
