use std::time::Duration;

use chrono::{DateTime, Utc};
use hammerwork_api::spawn::SpawnOperation;
use hammerwork_api::workflow::{JobGroup, Workflow, WorkflowId, WorkflowStats};
use hammerwork_api::{Error, Job, JobId, JobPriority, Result};
use serde_json::Value;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;
use uuid::Uuid;

/// A timestamp as stored: microseconds since the Unix epoch, UTC. Anything
/// finer is truncated, as `Job::new` truncates.
pub(crate) fn to_micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

/// The inverse of [`to_micros`].
pub(crate) fn from_micros(micros: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_micros(micros)
        .ok_or_else(|| Error::backend(format!("timestamp {micros} µs is out of range")))
}

/// Parses a stored job id.
pub(crate) fn parse_id(text: &str) -> Result<JobId> {
    Uuid::parse_str(text)
        .map(JobId)
        .map_err(|e| Error::backend(format!("stored job id {text:?} is not a UUID: {e}")))
}

/// Builds a [`Job`] from a `hammerwork_jobs` row (`SELECT *` / `RETURNING *`).
pub(crate) fn job_from_row(row: &SqliteRow) -> Result<Job> {
    let get_err = |e: sqlx::Error| Error::backend(e);
    let micros = |column: &str| -> Result<Option<DateTime<Utc>>> {
        row.try_get::<Option<i64>, _>(column)
            .map_err(get_err)?
            .map(from_micros)
            .transpose()
    };
    let required = |column: &str| -> Result<DateTime<Utc>> {
        micros(column)?.ok_or_else(|| Error::backend(format!("{column} is NULL")))
    };
    let json = |column: &str| -> Result<Option<Value>> {
        row.try_get::<Option<&str>, _>(column)
            .map_err(get_err)?
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| Error::backend(format!("stored {column} is not JSON: {e}")))
    };
    let status: String = row.try_get("status").map_err(get_err)?;
    let timeout_ms: Option<i64> = row.try_get("timeout_ms").map_err(get_err)?;

    let mut job = Job::new(
        row.try_get::<String, _>("queue_name").map_err(get_err)?,
        json("payload")?.ok_or_else(|| Error::backend("payload is NULL"))?,
    );
    job.id = parse_id(row.try_get("id").map_err(get_err)?)?;
    job.status = status.parse()?;
    job.priority = JobPriority::from_i16(row.try_get("priority").map_err(get_err)?);
    job.attempts = row.try_get("attempts").map_err(get_err)?;
    job.max_attempts = row.try_get("max_attempts").map_err(get_err)?;
    job.created_at = required("created_at")?;
    job.scheduled_at = required("scheduled_at")?;
    job.started_at = micros("started_at")?;
    job.completed_at = micros("completed_at")?;
    job.failed_at = micros("failed_at")?;
    job.lease_expires_at = micros("lease_expires_at")?;
    job.timeout = timeout_ms.map(|ms| Duration::from_millis(ms.max(0) as u64));
    job.error_message = row.try_get("error_message").map_err(get_err)?;
    job.result = json("result")?;
    job.retry_policy = json("retry_policy")?
        .map(serde_json::from_value)
        .transpose()
        .map_err(Error::backend)?;
    job.trace_id = row.try_get("trace_id").map_err(get_err)?;
    job.correlation_id = row.try_get("correlation_id").map_err(get_err)?;
    job.depends_on = json("depends_on")?
        .map(serde_json::from_value)
        .transpose()
        .map_err(|e| Error::backend(format!("stored depends_on is not a list of ids: {e}")))?
        .unwrap_or_default();
    job.dependency_status = row
        .try_get::<&str, _>("dependency_status")
        .map_err(get_err)?
        .parse()?;
    job.pending_dependencies = row.try_get("pending_dependencies").map_err(get_err)?;
    job.workflow_id = row
        .try_get::<Option<&str>, _>("workflow_id")
        .map_err(get_err)?
        .map(parse_workflow_id)
        .transpose()?;
    job.condition = row.try_get("condition").map_err(get_err)?;
    job.cron_schedule = row.try_get("cron_schedule").map_err(get_err)?;
    job.next_occurrence = row
        .try_get::<Option<&str>, _>("next_occurrence")
        .map_err(get_err)?
        .map(parse_id)
        .transpose()?;
    job.parent_job_id = row
        .try_get::<Option<&str>, _>("parent_job_id")
        .map_err(get_err)?
        .map(parse_id)
        .transpose()?;
    job.spawn_operation_id = row.try_get("spawn_operation_id").map_err(get_err)?;
    job.spawn_depth = row
        .try_get::<i64, _>("spawn_depth")
        .map_err(get_err)?
        .clamp(0, i64::from(u32::MAX)) as u32;
    Ok(job)
}

/// Parses a stored workflow id.
pub(crate) fn parse_workflow_id(text: &str) -> Result<WorkflowId> {
    Uuid::parse_str(text)
        .map(WorkflowId)
        .map_err(|e| Error::backend(format!("stored workflow id {text:?} is not a UUID: {e}")))
}

/// Builds a [`Workflow`] from a `hammerwork_workflows` row (`SELECT *`).
pub(crate) fn workflow_from_row(row: &SqliteRow) -> Result<Workflow> {
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
    workflow.id = parse_workflow_id(row.try_get("id").map_err(get_err)?)?;
    workflow.description = row.try_get("description").map_err(get_err)?;
    workflow.failure_policy = row
        .try_get::<&str, _>("failure_policy")
        .map_err(get_err)?
        .parse()?;
    workflow.state = row.try_get::<&str, _>("state").map_err(get_err)?.parse()?;
    workflow.created_at = from_micros(row.try_get("created_at").map_err(get_err)?)?;
    workflow.deadline_at = row
        .try_get::<Option<i64>, _>("deadline_at")
        .map_err(get_err)?
        .map(from_micros)
        .transpose()?;
    workflow.timeout = row
        .try_get::<Option<i64>, _>("timeout_ms")
        .map_err(get_err)?
        .map(|ms| Duration::from_millis(ms.max(0) as u64));
    workflow.cron_schedule = row.try_get("cron_schedule").map_err(get_err)?;
    workflow.next_occurrence = row
        .try_get::<Option<&str>, _>("next_occurrence")
        .map_err(get_err)?
        .map(parse_workflow_id)
        .transpose()?;
    workflow.stats = stats;
    Ok(workflow)
}

/// Builds a [`SpawnOperation`] from a `hammerwork_spawn_operations` row
/// (`SELECT *`).
pub(crate) fn spawn_operation_from_row(row: &SqliteRow) -> Result<SpawnOperation> {
    let get_err = |e: sqlx::Error| Error::backend(e);
    let count = |name: &str| -> Result<u64> {
        Ok(row.try_get::<i64, _>(name).map_err(get_err)?.max(0) as u64)
    };
    Ok(SpawnOperation {
        id: row.try_get("id").map_err(get_err)?,
        parent_job_id: parse_id(row.try_get("parent_job_id").map_err(get_err)?)?,
        queue_name: row.try_get("queue_name").map_err(get_err)?,
        handler: row.try_get("handler").map_err(get_err)?,
        child_count: count("child_count")?,
        batch_count: count("batch_count")?,
        metadata: row
            .try_get::<Option<&str>, _>("metadata")
            .map_err(get_err)?
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| Error::backend(format!("stored metadata is not JSON: {e}")))?,
        created_at: from_micros(row.try_get("created_at").map_err(get_err)?)?,
    })
}

#[cfg(test)]
mod tests {
    use chrono::{SubsecRound, TimeZone};

    use super::*;

    #[test]
    fn micros_round_trip_and_order() {
        let now = Utc::now().trunc_subsecs(6);
        assert_eq!(from_micros(to_micros(now)).unwrap(), now);
        let before_epoch = Utc.with_ymd_and_hms(1900, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(from_micros(to_micros(before_epoch)).unwrap(), before_epoch);
        assert!(to_micros(before_epoch) < to_micros(now));
        // The largest time chrono holds fits in an i64 of microseconds.
        let max = DateTime::<Utc>::MAX_UTC.trunc_subsecs(6);
        assert_eq!(from_micros(to_micros(max)).unwrap(), max);
    }

    #[test]
    fn sub_microseconds_are_truncated() {
        let at = Utc.timestamp_opt(1_700_000_000, 123_456_789).unwrap();
        assert_eq!(to_micros(at), 1_700_000_000_123_456);
    }
}
