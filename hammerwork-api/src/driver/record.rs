//! Batches as JSON arrays, for drivers that pass a batch as one parameter
//! (SQLite's `json_each`, MySQL's `JSON_TABLE`, PostgreSQL's
//! `jsonb_to_recordset`): one statement and one bind whatever the batch
//! size. Ids are UUID text, timestamps microseconds since the Unix epoch
//! (UTC), and JSON values their JSON text, so every database stores exactly
//! what was written.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::workflow::PlannedJob;
use crate::{Error, Job, Outcome, Result, Settlement};

/// Microseconds since the Unix epoch.
pub fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

/// `prefix` followed by `name`, or when that is longer than `max` bytes by
/// a hash of `name` (16 hex digits, FNV-1a: stable across processes and
/// releases, unlike std's hasher): for names a database caps, such as a
/// PostgreSQL NOTIFY channel or a MySQL `GET_LOCK` name.
pub fn short_name(prefix: &str, name: &str, max: usize) -> String {
    let full = format!("{prefix}{name}");
    if full.len() <= max {
        return full;
    }
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{prefix}{hash:016x}")
}

/// A duration (a timeout) as the whole milliseconds a column stores, at
/// most `i64::MAX`.
pub fn millis(duration: std::time::Duration) -> i64 {
    duration.as_millis().min(i64::MAX as u128) as i64
}

/// The JSON text of a value that serialises (payloads, results, ids).
fn json_text<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::InvalidPayload(e.to_string()))
}

/// Serialises `records` as one JSON array.
pub fn json_array<T: Serialize>(records: &[T]) -> Result<String> {
    json_text(records)
}

/// One job of an `insert_jobs` batch, in the state its plan gives it. An
/// absent optional field is left out (read back as SQL `NULL` everywhere).
#[derive(Debug, Serialize)]
#[non_exhaustive]
pub struct JobRecord<'a> {
    /// The job's id.
    pub id: Uuid,
    /// Its queue.
    pub queue_name: &'a str,
    /// The payload's JSON text.
    pub payload: String,
    /// `JobPriority::as_i16`.
    pub priority: i16,
    /// Attempts allowed.
    pub max_attempts: i32,
    /// Microseconds.
    pub created_at: i64,
    /// Microseconds.
    pub scheduled_at: i64,
    /// Whole milliseconds, saturating.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<i64>,
    /// The retry policy's JSON text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_policy: Option<String>,
    /// Trace id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<&'a str>,
    /// Correlation id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<&'a str>,
    /// The planned status.
    pub status: &'static str,
    /// The JSON text of the parent ids.
    pub depends_on: String,
    /// The planned dependency status.
    pub dependency_status: &'static str,
    /// Parents not completed yet.
    pub pending_dependencies: i32,
    /// Its workflow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workflow_id: Option<Uuid>,
    /// Its condition.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<&'a str>,
    /// Why it ended at once, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<&'a str>,
    /// Its cron schedule (the row becomes its series' live occurrence).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cron_schedule: Option<&'a str>,
    /// The job that spawned it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_job_id: Option<Uuid>,
    /// The spawn operation that wrote it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spawn_operation_id: Option<&'a str>,
    /// Depth in its spawn tree.
    pub spawn_depth: u32,
    /// Whether some job depends on it when written.
    pub has_dependents: bool,
}

impl<'a> JobRecord<'a> {
    /// `job` as `plan` plans it.
    pub fn new(job: &'a Job, plan: &'a PlannedJob) -> Result<Self> {
        Ok(JobRecord {
            id: job.id.0,
            queue_name: &job.queue_name,
            payload: json_text(&job.payload)?,
            priority: job.priority.as_i16(),
            max_attempts: job.max_attempts,
            created_at: micros(job.created_at),
            scheduled_at: micros(job.scheduled_at),
            timeout_ms: job.timeout.map(millis),
            retry_policy: job.retry_policy.as_ref().map(json_text).transpose()?,
            trace_id: job.trace_id.as_deref(),
            correlation_id: job.correlation_id.as_deref(),
            status: plan.status.as_str(),
            depends_on: json_text(&job.depends_on)?,
            dependency_status: plan.dependency_status.as_str(),
            pending_dependencies: plan.pending_dependencies,
            workflow_id: job.workflow_id.map(|w| w.0),
            condition: job.condition.as_deref(),
            error_message: plan.error.as_deref(),
            cron_schedule: job.cron_schedule.as_deref(),
            parent_job_id: job.parent_job_id.map(|p| p.0),
            spawn_operation_id: job.spawn_operation_id.as_deref(),
            spawn_depth: job.spawn_depth,
            has_dependents: plan.has_dependents,
        })
    }

    /// The JSON array of `jobs` as `plans` plan them.
    pub fn encode(jobs: &[Job], plans: &[PlannedJob]) -> Result<String> {
        let records = jobs
            .iter()
            .zip(plans)
            .map(|(job, plan)| JobRecord::new(job, plan))
            .collect::<Result<Vec<_>>>()?;
        json_array(&records)
    }
}

/// One attempt's outcome, flattened for a single settle statement: `kind` is
/// `completed` (with `result`), `failed` (`message`, `retry_at`),
/// `cancelled` (`message`) or `given_back` (`started`).
#[derive(Debug, Serialize)]
#[non_exhaustive]
pub struct SettleRecord<'a> {
    /// The job.
    pub id: Uuid,
    /// The claim settled ([`Lease::claim`](crate::Lease::claim)).
    pub claim: i64,
    /// Which outcome.
    pub kind: &'static str,
    /// A completed attempt's result, as JSON text (absent for none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// A failure's error or a cancellation's reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<&'a str>,
    /// A failure's retry time, in microseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_at: Option<i64>,
    /// Whether a given-back attempt had started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started: Option<bool>,
}

impl<'a> SettleRecord<'a> {
    /// `settlement`, flattened.
    pub fn new(settlement: &'a Settlement) -> Result<Self> {
        let mut record = SettleRecord {
            id: settlement.lease.id.0,
            claim: settlement.lease.claim,
            kind: "",
            result: None,
            message: None,
            retry_at: None,
            started: None,
        };
        match &settlement.outcome {
            Outcome::Completed { result } => {
                record.kind = "completed";
                record.result = result.as_ref().map(json_text).transpose()?;
            }
            Outcome::Failed { error, retry_at } => {
                record.kind = "failed";
                record.message = Some(error);
                record.retry_at = retry_at.map(micros);
            }
            Outcome::Cancelled { reason } => {
                record.kind = "cancelled";
                record.message = Some(reason);
            }
            Outcome::GiveBack { started } => {
                record.kind = "given_back";
                record.started = Some(*started);
            }
        }
        Ok(record)
    }

    /// The JSON array of `settlements`, flattened.
    pub fn encode<'s>(settlements: impl IntoIterator<Item = &'s Settlement>) -> Result<String> {
        let records = settlements
            .into_iter()
            .map(SettleRecord::new)
            .collect::<Result<Vec<_>>>()?;
        json_array(&records)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{JobId, Lease};
    use serde_json::Value;

    #[test]
    fn settle_records_keep_null_results_apart_from_none() {
        let lease = Lease {
            id: JobId::new(),
            claim: 2,
        };
        let settlements = [
            Settlement::new(lease, Outcome::Completed { result: None }),
            Settlement::new(
                lease,
                Outcome::Completed {
                    result: Some(Value::Null),
                },
            ),
        ];
        let rows: Value =
            serde_json::from_str(&SettleRecord::encode(&settlements).unwrap()).unwrap();
        assert_eq!(rows[0].get("result"), None, "no result reads as NULL");
        assert_eq!(rows[1]["result"], "null", "a JSON null result is kept");
        assert_eq!(rows[1]["claim"], 2);
        assert_eq!(rows[1]["kind"], "completed");
    }
}
