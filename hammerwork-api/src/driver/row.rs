//! Rows of Hammerwork's tables to domain types, once for every database: a
//! driver says how its database returns each kind of column
//! ([`StoredRow`]); the column names and their meaning are the same
//! everywhere.

use std::cell::Cell;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::driver::{Released, ResetJob, Transition};
use crate::spawn::{SpawnOperation, SpawnStats};
use crate::workflow::{FailurePolicy, JobGroup, StoredParent, Workflow, WorkflowId, WorkflowStats};
use crate::{Error, Job, JobId, JobPriority, JobStatus, Result};

/// One row as a database returned it. Each method reads column `column`,
/// `None` for SQL `NULL`; a driver implements it for its row type, storing
/// ids, timestamps and JSON however its database does.
pub trait StoredRow {
    /// A text column.
    fn text(&self, column: &str) -> Result<Option<String>>;
    /// An integer column of any width (a boolean one reads as 0 or 1).
    fn int(&self, column: &str) -> Result<Option<i64>>;
    /// An id column (job, workflow).
    fn uuid(&self, column: &str) -> Result<Option<Uuid>>;
    /// A JSON column.
    fn json(&self, column: &str) -> Result<Option<Value>>;
    /// A timestamp column, in UTC.
    fn time(&self, column: &str) -> Result<Option<DateTime<Utc>>>;
}

/// Finds a row's columns by name for a [`StoredRow`], looking first at the
/// two positions after the column read last (the next, or the one after an
/// unread column): the decoders here read a row's columns in the order
/// `SELECT *` returns them, and a hit there saves hashing the name. One
/// cursor per row.
///
/// A result's columns must have distinct names: of two with one name, the
/// cursor finds the first when reading in order, a lookup by name (sqlx's)
/// the last.
#[derive(Debug, Default)]
pub struct ColumnCursor(Cell<usize>);

impl ColumnCursor {
    /// The position of column `name`: the next position or the one after
    /// it when `name_at` says it holds `name`, else what `lookup` finds.
    pub fn find<'n, E>(
        &self,
        name: &str,
        name_at: impl Fn(usize) -> Option<&'n str>,
        lookup: impl FnOnce() -> std::result::Result<usize, E>,
    ) -> std::result::Result<usize, E> {
        let next = self.0.get();
        let at = match (next..next + 2).find(|&i| name_at(i) == Some(name)) {
            Some(at) => at,
            None => lookup()?,
        };
        self.0.set(at + 1);
        Ok(at)
    }
}

/// `decode` of every row of `rows`, into a vector sized once (collecting
/// results would grow it step by step, copying every decoded job).
pub fn decode_rows<R, T>(rows: &[R], decode: impl Fn(&R) -> Result<T>) -> Result<Vec<T>> {
    let mut decoded = Vec::with_capacity(rows.len());
    for row in rows {
        decoded.push(decode(row)?);
    }
    Ok(decoded)
}

/// A column that may not be `NULL`.
fn required<T>(value: Option<T>, column: &str) -> Result<T> {
    value.ok_or_else(|| Error::backend(format!("column {column} is NULL")))
}

fn text(row: &dyn StoredRow, column: &str) -> Result<String> {
    required(row.text(column)?, column)
}

fn int(row: &dyn StoredRow, column: &str) -> Result<i64> {
    required(row.int(column)?, column)
}

fn count(row: &dyn StoredRow, column: &str) -> Result<u64> {
    Ok(int(row, column)?.max(0) as u64)
}

fn time(row: &dyn StoredRow, column: &str) -> Result<DateTime<Utc>> {
    required(row.time(column)?, column)
}

fn millis(row: &dyn StoredRow, column: &str) -> Result<Option<Duration>> {
    Ok(row
        .int(column)?
        .map(|ms| Duration::from_millis(ms.max(0) as u64)))
}

fn narrow<T: TryFrom<i64>>(value: i64, column: &str) -> Result<T> {
    T::try_from(value).map_err(|_| Error::backend(format!("column {column} is out of range")))
}

/// Decodes a JSON column into `T` (`None` for `NULL`).
fn json_as<T: serde::de::DeserializeOwned>(row: &dyn StoredRow, column: &str) -> Result<Option<T>> {
    row.json(column)?
        .map(serde_json::from_value)
        .transpose()
        .map_err(|e| Error::backend(format!("column {column}: {e}")))
}

/// A `hammerwork_jobs` row (every column).
pub fn job_from_row(row: &dyn StoredRow) -> Result<Job> {
    decode_job(row, &mut Strict)
}

/// A row a claim has just marked running, read so that one bad row does not
/// fail the whole claim: when a column other than `id`, `attempts` and
/// `claims` cannot be read (a retry policy stored as `null`, a value written by a
/// newer version), the job comes back with that column at its default and
/// [`Job::rejection`] naming the problem, for the engine to end the attempt
/// dead while the rest of the batch runs.
pub fn claimed_job_from_row(row: &dyn StoredRow) -> Result<Job> {
    let mut lenient = Lenient(None);
    let job = decode_job(row, &mut lenient)?;
    Ok(match lenient.0 {
        Some(problem) => job.reject(format!("the stored job could not be read: {problem}")),
        None => job,
    })
}

/// What [`decode_job`] does with a column that cannot be read.
trait Unreadable {
    /// `value`, or (when tolerated) `fallback` with the error noted.
    fn or<T>(&mut self, value: Result<T>, fallback: T) -> Result<T>;
}

/// Every column must read.
struct Strict;

impl Unreadable for Strict {
    fn or<T>(&mut self, value: Result<T>, _: T) -> Result<T> {
        value
    }
}

/// A column that does not read falls back; the first error is kept.
struct Lenient(Option<String>);

impl Unreadable for Lenient {
    fn or<T>(&mut self, value: Result<T>, fallback: T) -> Result<T> {
        Ok(value.unwrap_or_else(|e| {
            self.0.get_or_insert_with(|| e.to_string());
            fallback
        }))
    }
}

/// Reads the columns in the table's order (see [`ColumnCursor`]).
fn decode_job(row: &dyn StoredRow, soft: &mut impl Unreadable) -> Result<Job> {
    let id = JobId(required(row.uuid("id")?, "id")?);
    let queue = soft.or(text(row, "queue_name"), String::new())?;
    let payload = row.json("payload").and_then(|p| required(p, "payload"));
    let payload = soft.or(payload, Value::Null)?;
    // Columns that do not read (lenient decoding) fall back to the epoch.
    let mut job = Job::with_id_at(id, queue, payload, DateTime::<Utc>::UNIX_EPOCH);
    job.status = soft.or(
        text(row, "status").and_then(|s| s.parse()),
        JobStatus::Running,
    )?;
    let priority = int(row, "priority").and_then(|p| narrow(p, "priority"));
    job.priority = JobPriority::from_i16(soft.or(priority, JobPriority::Normal.as_i16())?);
    job.attempts = narrow(int(row, "attempts")?, "attempts")?;
    let max_attempts = int(row, "max_attempts").and_then(|m| narrow(m, "max_attempts"));
    job.max_attempts = soft.or(max_attempts, job.attempts)?;
    job.created_at = soft.or(time(row, "created_at"), job.created_at)?;
    job.scheduled_at = soft.or(time(row, "scheduled_at"), job.scheduled_at)?;
    job.started_at = soft.or(row.time("started_at"), None)?;
    job.completed_at = soft.or(row.time("completed_at"), None)?;
    job.failed_at = soft.or(row.time("failed_at"), None)?;
    job.lease_expires_at = soft.or(row.time("lease_expires_at"), None)?;
    job.timeout = soft.or(millis(row, "timeout_ms"), None)?;
    job.error_message = soft.or(row.text("error_message"), None)?;
    job.result = soft.or(row.json("result"), None)?;
    job.retry_policy = soft.or(json_as(row, "retry_policy"), None)?;
    job.trace_id = soft.or(row.text("trace_id"), None)?;
    job.correlation_id = soft.or(row.text("correlation_id"), None)?;
    // NULL (MySQL) or [] for a job without dependencies.
    let depends_on = json_as(row, "depends_on").map(Option::unwrap_or_default);
    job.depends_on = soft.or(depends_on, Vec::new())?;
    let dependency_status = text(row, "dependency_status").and_then(|s| s.parse());
    job.dependency_status = soft.or(dependency_status, job.dependency_status)?;
    let pending = int(row, "pending_dependencies").and_then(|n| narrow(n, "pending_dependencies"));
    job.pending_dependencies = soft.or(pending, 0)?;
    job.workflow_id = soft.or(row.uuid("workflow_id"), None)?.map(WorkflowId);
    job.condition = soft.or(row.text("condition"), None)?;
    job.cron_schedule = soft.or(row.text("cron_schedule"), None)?;
    job.next_occurrence = soft.or(row.uuid("next_occurrence"), None)?.map(JobId);
    job.parent_job_id = soft.or(row.uuid("parent_job_id"), None)?.map(JobId);
    job.spawn_operation_id = soft.or(row.text("spawn_operation_id"), None)?;
    let depth = int(row, "spawn_depth").map(|d| d.clamp(0, i64::from(u32::MAX)) as u32);
    job.spawn_depth = soft.or(depth, 0)?;
    job.claims = int(row, "claims")?;
    Ok(job)
}

/// A `hammerwork_workflows` row with its running jobs counted as
/// `running_jobs`.
pub fn workflow_from_row(row: &dyn StoredRow) -> Result<Workflow> {
    let mut workflow = Workflow::from_group(&JobGroup::new(text(row, "name")?));
    workflow.id = WorkflowId(required(row.uuid("id")?, "id")?);
    workflow.description = row.text("description")?;
    workflow.failure_policy = text(row, "failure_policy")?.parse()?;
    workflow.state = text(row, "state")?.parse()?;
    workflow.created_at = time(row, "created_at")?;
    workflow.deadline_at = row.time("deadline_at")?;
    workflow.stats = WorkflowStats::from_counts(
        count(row, "total_jobs")?,
        count(row, "completed_jobs")?,
        count(row, "failed_jobs")?,
        count(row, "skipped_jobs")?,
        count(row, "cancelled_jobs")?,
        count(row, "running_jobs")?,
    );
    workflow.timeout = millis(row, "timeout_ms")?;
    workflow.cron_schedule = row.text("cron_schedule")?;
    workflow.next_occurrence = row.uuid("next_occurrence")?.map(WorkflowId);
    Ok(workflow)
}

/// A `hammerwork_spawn_operations` row.
pub fn spawn_operation_from_row(row: &dyn StoredRow) -> Result<SpawnOperation> {
    Ok(SpawnOperation {
        id: text(row, "id")?,
        parent_job_id: JobId(required(row.uuid("parent_job_id")?, "parent_job_id")?),
        queue_name: text(row, "queue_name")?,
        handler: text(row, "handler")?,
        child_count: count(row, "child_count")?,
        batch_count: count(row, "batch_count")?,
        metadata: row.json("metadata")?,
        created_at: time(row, "created_at")?,
        await_children: row.int("await_children")?.unwrap_or(0) != 0,
    })
}

/// A changed job as `id, status, workflow_id` (and `has_dependents` where
/// the driver keeps that flag).
pub fn transition_from_row(row: &dyn StoredRow, has_dependents_column: bool) -> Result<Transition> {
    let transition = Transition::new(
        JobId(required(row.uuid("id")?, "id")?),
        row.uuid("workflow_id")?.map(WorkflowId),
        text(row, "status")?.parse()?,
    );
    Ok(if has_dependents_column {
        transition.with_dependents(int(row, "has_dependents")? != 0)
    } else {
        transition
    })
}

/// A counted-off dependent as `id, workflow_id, queue_name,
/// pending_dependencies, condition`.
pub fn released_from_row(row: &dyn StoredRow) -> Result<Released> {
    Ok(Released::new(
        JobId(required(row.uuid("id")?, "id")?),
        row.uuid("workflow_id")?.map(WorkflowId),
        text(row, "queue_name")?,
        narrow(int(row, "pending_dependencies")?, "pending_dependencies")?,
        row.text("condition")?,
    ))
}

/// Two job id columns, as a pair (an edge, a parent and its child).
pub fn job_id_pair_from_row(
    row: &dyn StoredRow,
    first: &str,
    second: &str,
) -> Result<(JobId, JobId)> {
    Ok((job_id_from_row(row, first)?, job_id_from_row(row, second)?))
}

/// A job id column (`id` unless named otherwise).
pub fn job_id_from_row(row: &dyn StoredRow, column: &str) -> Result<JobId> {
    Ok(JobId(required(row.uuid(column)?, column)?))
}

/// A workflow's `id`.
pub fn workflow_id_from_row(row: &dyn StoredRow) -> Result<WorkflowId> {
    Ok(WorkflowId(required(row.uuid("id")?, "id")?))
}

/// What a delete pruned, as `jobs, workflows, spawn_operations` (counts).
pub fn pruned_from_row(row: &dyn StoredRow) -> Result<crate::retention::Pruned> {
    let count = |column| -> Result<u64> { Ok(row.int(column)?.unwrap_or(0).max(0) as u64) };
    Ok(crate::retention::Pruned {
        jobs: count("jobs")?,
        workflows: count("workflows")?,
        spawn_operations: count("spawn_operations")?,
    })
}

/// A stored parent as `id, status, result`.
pub fn stored_parent_from_row(row: &dyn StoredRow) -> Result<(JobId, StoredParent)> {
    let parent = StoredParent {
        status: text(row, "status")?.parse()?,
        result: row.json("result")?,
    };
    Ok((job_id_from_row(row, "id")?, parent))
}

/// A parent's result as `job_id` (the dependent) and `result`.
pub fn parent_result_from_row(row: &dyn StoredRow) -> Result<(JobId, Value)> {
    let result = row.json("result")?.unwrap_or_default();
    Ok((job_id_from_row(row, "job_id")?, result))
}

/// A workflow's failure policy as `id, failure_policy`.
pub fn policy_from_row(row: &dyn StoredRow) -> Result<(WorkflowId, FailurePolicy)> {
    Ok((
        workflow_id_from_row(row)?,
        text(row, "failure_policy")?.parse()?,
    ))
}

/// A job put back to pending as `id, workflow_id, queue_name, previous`.
pub fn reset_job_from_row(row: &dyn StoredRow) -> Result<ResetJob> {
    Ok(ResetJob::new(
        job_id_from_row(row, "id")?,
        row.uuid("workflow_id")?.map(WorkflowId),
        text(row, "queue_name")?,
        text(row, "previous")?.parse()?,
    ))
}

/// [`DeadRows`](super::DeadRows) as `dead, live, allowed, running, recent`
/// (the last three 0 or 1).
pub fn dead_rows_from_row(row: &dyn StoredRow) -> Result<super::DeadRows> {
    Ok(super::DeadRows {
        dead: int(row, "dead")?,
        live: int(row, "live")?,
        allowed: int(row, "allowed")? != 0,
        running: int(row, "running")? != 0,
        recent: int(row, "recent")? != 0,
    })
}

/// One line of `queue_counts` as `status, count`.
pub fn queue_count_from_row(row: &dyn StoredRow) -> Result<(JobStatus, u64)> {
    Ok((text(row, "status")?.parse()?, count(row, "count")?))
}

/// `spawn_stats` as `operations, children, failed_children`.
pub fn spawn_stats_from_row(row: &dyn StoredRow) -> Result<SpawnStats> {
    Ok(SpawnStats::new(
        count(row, "operations")?,
        count(row, "children")?,
        count(row, "failed_children")?,
    ))
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::ColumnCursor;

    const COLUMNS: [&str; 4] = ["id", "queue_name", "payload", "status"];

    /// Finds `name` in `COLUMNS` with `cursor`, counting the lookups by name.
    fn find(cursor: &ColumnCursor, name: &str, lookups: &Cell<u32>) -> Result<usize, String> {
        cursor.find(
            name,
            |i| COLUMNS.get(i).copied(),
            || {
                lookups.set(lookups.get() + 1);
                COLUMNS
                    .iter()
                    .position(|c| *c == name)
                    .ok_or_else(|| format!("no column {name}"))
            },
        )
    }

    #[test]
    fn columns_read_in_order_need_no_lookup() {
        let (cursor, lookups) = (ColumnCursor::default(), Cell::new(0));
        for (at, name) in COLUMNS.iter().enumerate() {
            assert_eq!(find(&cursor, name, &lookups), Ok(at));
        }
        assert_eq!(lookups.get(), 0);
    }

    #[test]
    fn a_column_out_of_order_is_looked_up_and_reading_goes_on_from_it() {
        let (cursor, lookups) = (ColumnCursor::default(), Cell::new(0));
        assert_eq!(find(&cursor, "payload", &lookups), Ok(2));
        assert_eq!(lookups.get(), 1);
        assert_eq!(find(&cursor, "status", &lookups), Ok(3));
        assert_eq!(lookups.get(), 1, "the column after the last one read");
        assert_eq!(find(&cursor, "id", &lookups), Ok(0));
        assert_eq!(find(&cursor, "id", &lookups), Ok(0), "read twice");
        assert_eq!(lookups.get(), 3);
    }

    #[test]
    fn one_unread_column_is_skipped_without_a_lookup() {
        let (cursor, lookups) = (ColumnCursor::default(), Cell::new(0));
        assert_eq!(find(&cursor, "queue_name", &lookups), Ok(1));
        assert_eq!(find(&cursor, "status", &lookups), Ok(3));
        assert_eq!(lookups.get(), 0);
    }

    #[test]
    fn an_unknown_column_is_the_lookups_error() {
        let (cursor, lookups) = (ColumnCursor::default(), Cell::new(0));
        assert_eq!(
            find(&cursor, "nope", &lookups),
            Err("no column nope".to_string())
        );
        // Past the last column the lookup answers.
        let _ = find(&cursor, "status", &lookups);
        assert_eq!(find(&cursor, "status", &lookups), Ok(3));
    }
}
