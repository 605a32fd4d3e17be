use std::time::Duration;

use chrono::{DateTime, Utc};
use hammerwork_api::spawn::SpawnOperation;
use hammerwork_api::workflow::{JobGroup, Workflow, WorkflowId, WorkflowStats};
use hammerwork_api::{Error, Job, JobId, JobPriority, Result};
use serde_json::Value;
use sqlx::mysql::MySqlRow;
use sqlx::Row;
use uuid::Uuid;

/// Builds a [`Job`] from a `hammerwork_jobs` row (`SELECT *`).
pub(crate) fn job_from_row(row: &MySqlRow) -> Result<Job> {
    let get_err = |e: sqlx::Error| Error::backend(e);
    let timeout_ms: Option<i64> = row.try_get("timeout_ms").map_err(get_err)?;

    let mut job = Job::new(
        required_text(row, "queue_name")?,
        parse_json(&required_text(row, "payload")?)?,
    );
    job.id = JobId(row.try_get::<Uuid, _>("id").map_err(get_err)?);
    job.status = required_text(row, "status")?.parse()?;
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
    job.timeout = timeout_ms.map(duration_from_ms);
    job.error_message = text(row, "error_message")?;
    job.result = json(row, "result")?;
    job.retry_policy = json(row, "retry_policy")?
        .map(serde_json::from_value)
        .transpose()
        .map_err(Error::backend)?;
    job.trace_id = text(row, "trace_id")?;
    job.correlation_id = text(row, "correlation_id")?;
    // NULL for a job without dependencies.
    job.depends_on = json(row, "depends_on")?
        .map(serde_json::from_value)
        .transpose()
        .map_err(Error::backend)?
        .unwrap_or_default();
    job.dependency_status = required_text(row, "dependency_status")?.parse()?;
    job.pending_dependencies = row.try_get("pending_dependencies").map_err(get_err)?;
    job.workflow_id = row
        .try_get::<Option<Uuid>, _>("workflow_id")
        .map_err(get_err)?
        .map(WorkflowId);
    job.condition = text(row, "condition")?;
    job.cron_schedule = text(row, "cron_schedule")?;
    job.next_occurrence = row
        .try_get::<Option<Uuid>, _>("next_occurrence")
        .map_err(get_err)?
        .map(JobId);
    job.parent_job_id = row
        .try_get::<Option<Uuid>, _>("parent_job_id")
        .map_err(get_err)?
        .map(JobId);
    job.spawn_operation_id = text(row, "spawn_operation_id")?;
    job.spawn_depth = row
        .try_get::<i32, _>("spawn_depth")
        .map_err(get_err)?
        .max(0) as u32;
    Ok(job)
}

/// Builds a [`SpawnOperation`] from a `hammerwork_spawn_operations` row
/// (`SELECT *`).
pub(crate) fn spawn_operation_from_row(row: &MySqlRow) -> Result<SpawnOperation> {
    let get_err = |e: sqlx::Error| Error::backend(e);
    let count = |name: &str| -> Result<u64> {
        Ok(row.try_get::<i64, _>(name).map_err(get_err)?.max(0) as u64)
    };
    Ok(SpawnOperation {
        id: required_text(row, "id")?,
        parent_job_id: JobId(row.try_get("parent_job_id").map_err(get_err)?),
        queue_name: required_text(row, "queue_name")?,
        handler: required_text(row, "handler")?,
        child_count: count("child_count")?,
        batch_count: count("batch_count")?,
        metadata: json(row, "metadata")?,
        created_at: row.try_get("created_at").map_err(get_err)?,
    })
}

/// Builds a [`Workflow`] from a `hammerwork_workflows` row (`SELECT *`).
pub(crate) fn workflow_from_row(row: &MySqlRow) -> Result<Workflow> {
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
    let mut workflow = Workflow::from_group(&JobGroup::new(required_text(row, "name")?));
    workflow.id = WorkflowId(row.try_get("id").map_err(get_err)?);
    workflow.description = text(row, "description")?;
    workflow.failure_policy = required_text(row, "failure_policy")?.parse()?;
    workflow.state = required_text(row, "state")?.parse()?;
    workflow.created_at = row.try_get("created_at").map_err(get_err)?;
    workflow.deadline_at = row.try_get("deadline_at").map_err(get_err)?;
    workflow.timeout = row
        .try_get::<Option<i64>, _>("timeout_ms")
        .map_err(get_err)?
        .map(duration_from_ms);
    workflow.cron_schedule = text(row, "cron_schedule")?;
    workflow.next_occurrence = row
        .try_get::<Option<Uuid>, _>("next_occurrence")
        .map_err(get_err)?
        .map(WorkflowId);
    workflow.stats = stats;
    Ok(workflow)
}

/// A `timeout_ms` column's value as a duration (a negative one, which we
/// never write, as zero).
fn duration_from_ms(ms: i64) -> Duration {
    Duration::from_millis(ms.max(0) as u64)
}

/// Milliseconds for a `timeout_ms` column, saturating at `i64::MAX`.
pub(crate) fn duration_to_ms(timeout: Duration) -> i64 {
    timeout.as_millis().min(i64::MAX as u128) as i64
}

/// A NOT NULL text column; see [`text`].
pub(crate) fn required_text(row: &MySqlRow, column: &str) -> Result<String> {
    row.try_get_unchecked(column).map_err(Error::backend)
}

/// A text column, read without sqlx's type check: the server flags columns
/// with a binary collation (and our VARBINARY queue names) as binary, which
/// sqlx refuses to decode as `String` although the bytes are UTF-8 we wrote.
pub(crate) fn text(row: &MySqlRow, column: &str) -> Result<Option<String>> {
    row.try_get_unchecked(column).map_err(Error::backend)
}

/// A JSON column, read as text: MySQL sends its JSON type and MariaDB a
/// LONGTEXT, and both hold JSON text.
pub(crate) fn json(row: &MySqlRow, column: &str) -> Result<Option<Value>> {
    text(row, column)?.as_deref().map(parse_json).transpose()
}

fn parse_json(text: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(Error::backend)
}
