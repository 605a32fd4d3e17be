//! Bulk enqueue as multi-row INSERTs.
//!
//! A statement holds a power-of-two number of rows, at most
//! [`MAX_CHUNK_ROWS`]: every batch size is then served by at most ten distinct
//! statements, which sqlx prepares once per connection and caches, instead of
//! one prepared statement per batch size (each a server-side allocation
//! proportional to its placeholders). A chunk is also kept under
//! [`MAX_CHUNK_BYTES`] so it fits `max_allowed_packet` (16 MiB by default on
//! MariaDB, 64 MiB on MySQL 8) whatever the payload sizes.

use std::collections::HashSet;
use std::ops::Range;
use std::sync::OnceLock;

use hammerwork_api::workflow::PlannedJob;
use hammerwork_api::{DependencyStatus, Error, Job, JobId, JobStatus, Result};
use sqlx::MySqlConnection;

use crate::row::duration_to_ms;

/// Rows in the largest INSERT: 512 rows x 25 parameters = 12,800
/// placeholders, far below MySQL's 65,535.
const MAX_CHUNK_ROWS: usize = 512;

/// Estimated bytes above which a chunk is split further.
const MAX_CHUNK_BYTES: usize = 4 << 20;

/// Bytes a row costs besides its strings (id, numbers, timestamps, framing).
const ROW_OVERHEAD: usize = 96;

/// A job with its JSON columns serialised once, and its planned initial
/// state.
pub(crate) struct EncodedJob<'a> {
    job: &'a Job,
    payload: String,
    retry_policy: Option<String>,
    depends_on: Option<String>,
    status: JobStatus,
    dependency_status: DependencyStatus,
    pending_dependencies: i32,
    error: Option<String>,
    has_dependents: bool,
}

impl EncodedJob<'_> {
    /// The job's id.
    pub(crate) fn id(&self) -> JobId {
        self.job.id
    }

    fn estimated_size(&self) -> usize {
        ROW_OVERHEAD
            + self.job.queue_name.len()
            + self.payload.len()
            + self.retry_policy.as_ref().map_or(0, String::len)
            + self.job.trace_id.as_ref().map_or(0, String::len)
            + self.job.correlation_id.as_ref().map_or(0, String::len)
            + self.depends_on.as_ref().map_or(0, String::len)
            + self.job.condition.as_ref().map_or(0, String::len)
            + self.job.cron_schedule.as_ref().map_or(0, String::len)
            + self.job.spawn_operation_id.as_ref().map_or(0, String::len)
            + self.error.as_ref().map_or(0, String::len)
    }

    /// Whether a worker may claim the job as soon as it is due.
    pub(crate) fn claimable(&self) -> bool {
        self.status == JobStatus::Pending
            && matches!(
                self.dependency_status,
                DependencyStatus::None | DependencyStatus::Satisfied
            )
    }

    /// The job's queue.
    pub(crate) fn queue(&self) -> &str {
        &self.job.queue_name
    }

    /// Whether every column beyond the basic ones keeps its default: no
    /// dependencies either way, no workflow, no condition, no cron schedule,
    /// not spawned, pending.
    fn is_plain(&self) -> bool {
        self.depends_on.is_none()
            && !self.has_dependents
            && self.job.workflow_id.is_none()
            && self.job.condition.is_none()
            && self.job.cron_schedule.is_none()
            && self.job.parent_job_id.is_none()
            && self.job.spawn_operation_id.is_none()
            && self.job.spawn_depth == 0
            && self.status == JobStatus::Pending
    }

    fn spawn_depth(&self) -> i32 {
        self.job.spawn_depth.min(i32::MAX as u32) as i32
    }

    fn timeout_ms(&self) -> Option<i64> {
        self.job.timeout.map(duration_to_ms)
    }
}

/// Serialises the JSON columns of `jobs`, with their initial states: `plans`
/// (one per job, from `plan_enqueue`), or plain pending jobs when `None`.
/// `parents` are the ids some job of the batch depends on.
pub(crate) fn encode<'a>(
    jobs: &'a [Job],
    plans: Option<&[PlannedJob]>,
    parents: &HashSet<JobId>,
) -> Result<Vec<EncodedJob<'a>>> {
    let invalid = |e: serde_json::Error| Error::InvalidPayload(e.to_string());
    jobs.iter()
        .enumerate()
        .map(|(i, job)| {
            let plan = plans.map(|plans| &plans[i]);
            Ok(EncodedJob {
                job,
                depends_on: if job.depends_on.is_empty() {
                    None
                } else {
                    Some(serde_json::to_string(&job.depends_on).map_err(invalid)?)
                },
                status: plan.map_or(JobStatus::Pending, |p| p.status),
                dependency_status: plan.map_or(DependencyStatus::None, |p| p.dependency_status),
                pending_dependencies: plan.map_or(0, |p| p.pending_dependencies),
                error: plan.and_then(|p| p.error.clone()),
                has_dependents: parents.contains(&job.id),
                payload: serde_json::to_string(&job.payload).map_err(invalid)?,
                retry_policy: job
                    .retry_policy
                    .as_ref()
                    .map(serde_json::to_string)
                    .transpose()
                    .map_err(invalid)?,
            })
        })
        .collect()
}

/// Splits `jobs` into consecutive chunks of a power-of-two length of at most
/// [`MAX_CHUNK_ROWS`] rows and (unless a single row is larger) at most
/// [`MAX_CHUNK_BYTES`] estimated bytes.
pub(crate) fn plan_chunks(jobs: &[EncodedJob<'_>]) -> Vec<Range<usize>> {
    let sizes: Vec<usize> = jobs.iter().map(EncodedJob::estimated_size).collect();
    plan_sizes(&sizes)
}

fn plan_sizes(sizes: &[usize]) -> Vec<Range<usize>> {
    let mut chunks = Vec::new();
    let mut start = 0;
    while start < sizes.len() {
        let remaining = sizes.len() - start;
        let mut rows = prev_power_of_two(remaining.min(MAX_CHUNK_ROWS));
        while rows > 1 && sizes[start..start + rows].iter().sum::<usize>() > MAX_CHUNK_BYTES {
            rows /= 2;
        }
        chunks.push(start..start + rows);
        start += rows;
    }
    chunks
}

fn prev_power_of_two(n: usize) -> usize {
    debug_assert!(n > 0);
    1 << n.ilog2()
}

/// The INSERT statement for `rows` rows (a power of two up to
/// [`MAX_CHUNK_ROWS`]) of all columns, or of plain jobs (see
/// [`EncodedJob::is_plain`]), built once per process.
fn insert_sql(rows: usize, plain: bool) -> &'static str {
    static FULL: OnceLock<Vec<String>> = OnceLock::new();
    static PLAIN: OnceLock<Vec<String>> = OnceLock::new();
    let build = |head: &str, row: &str| -> Vec<String> {
        let head = head.trim_end();
        let row = row.trim();
        (0..=MAX_CHUNK_ROWS.ilog2())
            .map(|k| format!("{head}\n{}", vec![row; 1 << k].join(",\n")))
            .collect()
    };
    let all = if plain {
        PLAIN.get_or_init(|| {
            build(
                include_str!("../queries/enqueue_plain_jobs.sql"),
                include_str!("../queries/enqueue_plain_jobs_row.sql"),
            )
        })
    } else {
        FULL.get_or_init(|| {
            build(
                include_str!("../queries/enqueue_jobs.sql"),
                include_str!("../queries/enqueue_jobs_row.sql"),
            )
        })
    };
    debug_assert!(rows.is_power_of_two() && rows <= MAX_CHUNK_ROWS);
    &all[rows.ilog2() as usize]
}

/// Inserts one chunk (as planned by [`plan_chunks`]) in one statement.
pub(crate) async fn insert_chunk(
    conn: &mut MySqlConnection,
    chunk: &[EncodedJob<'_>],
) -> std::result::Result<(), sqlx::Error> {
    let plain = chunk.iter().all(EncodedJob::is_plain);
    let mut query = sqlx::query(insert_sql(chunk.len(), plain));
    for encoded in chunk {
        let job = encoded.job;
        if plain {
            query = query
                .bind(job.id.0)
                .bind(job.queue_name.as_bytes())
                .bind(encoded.payload.as_str())
                .bind(job.priority.as_i16())
                .bind(job.max_attempts)
                .bind(job.created_at)
                .bind(job.scheduled_at)
                .bind(encoded.timeout_ms())
                .bind(encoded.retry_policy.as_deref())
                .bind(job.trace_id.as_deref())
                .bind(job.correlation_id.as_deref());
            continue;
        }
        // A job that is not pending (its parent failed, its condition is
        // false) ends when it is written.
        let completed_at = (encoded.status != JobStatus::Pending).then_some(job.created_at);
        query = query
            .bind(job.id.0)
            .bind(job.queue_name.as_bytes())
            .bind(encoded.payload.as_str())
            .bind(encoded.status.as_str())
            .bind(job.priority.as_i16())
            .bind(job.max_attempts)
            .bind(job.created_at)
            .bind(job.scheduled_at)
            .bind(completed_at)
            .bind(encoded.timeout_ms())
            .bind(encoded.retry_policy.as_deref())
            .bind(job.trace_id.as_deref())
            .bind(job.correlation_id.as_deref())
            .bind(encoded.depends_on.as_deref())
            .bind(encoded.dependency_status.as_str())
            .bind(encoded.pending_dependencies)
            .bind(job.workflow_id.map(|w| w.0))
            .bind(job.condition.as_deref())
            .bind(encoded.error.as_deref())
            .bind(i8::from(encoded.has_dependents))
            .bind(job.cron_schedule.as_deref())
            // The series continues from a recurring job until
            // advance_recurrence moves it on.
            .bind(job.cron_schedule.is_some().then_some(1_i8))
            .bind(job.parent_job_id.map(|id| id.0))
            .bind(job.spawn_operation_id.as_deref().map(str::as_bytes))
            .bind(encoded.spawn_depth());
    }
    query.execute(conn).await.map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lens(chunks: &[Range<usize>]) -> Vec<usize> {
        chunks.iter().map(ExactSizeIterator::len).collect()
    }

    #[test]
    fn chunks_are_powers_of_two_covering_everything() {
        assert!(plan_sizes(&[]).is_empty());
        assert_eq!(lens(&plan_sizes(&[10; 1])), [1]);
        assert_eq!(lens(&plan_sizes(&[10; 1000])), [512, 256, 128, 64, 32, 8]);
        assert_eq!(lens(&plan_sizes(&[10; 1100])), [512, 512, 64, 8, 4]);
        let chunks = plan_sizes(&[10; 1100]);
        assert_eq!(chunks.first().unwrap().start, 0);
        assert_eq!(chunks.last().unwrap().end, 1100);
        assert!(chunks.windows(2).all(|w| w[0].end == w[1].start));
    }

    #[test]
    fn large_rows_make_smaller_chunks() {
        let big = MAX_CHUNK_BYTES / 3;
        assert_eq!(lens(&plan_sizes(&[big; 5])), [2, 2, 1]);
        // A row larger than the budget still goes, alone.
        assert_eq!(lens(&plan_sizes(&[MAX_CHUNK_BYTES * 2, 1])), [1, 1]);
    }

    #[test]
    fn insert_sql_has_one_tuple_per_row() {
        for rows in [1, 2, 64, MAX_CHUNK_ROWS] {
            assert_eq!(insert_sql(rows, false).matches("(?").count(), rows);
            assert_eq!(insert_sql(rows, false).matches('?').count(), rows * 25);
            assert_eq!(insert_sql(rows, true).matches("'pending'").count(), rows);
            assert_eq!(insert_sql(rows, true).matches('?').count(), rows * 11);
        }
    }
}
