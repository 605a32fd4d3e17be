use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::workflow::WorkflowId;
use crate::{DependencyStatus, Error, JobPriority, JobStatus, Result, RetryPolicy};

/// A job's id: a UUIDv7, so ids are time-ordered and index-friendly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(pub Uuid);

impl JobId {
    /// A fresh, time-ordered id.
    pub fn new() -> Self {
        JobId(Uuid::now_v7())
    }

    /// The underlying UUID.
    pub fn as_uuid(&self) -> &Uuid {
        &self.0
    }
}

impl Default for JobId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for JobId {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Uuid::parse_str(s)
            .map(JobId)
            .map_err(|e| Error::Config(format!("{s:?} is not a job id: {e}")))
    }
}

impl From<Uuid> for JobId {
    fn from(value: Uuid) -> Self {
        JobId(value)
    }
}

/// A unit of background work: a JSON payload for a named queue, plus how and
/// when to run it.
///
/// Build one with [`Job::new`] and the `with_*` methods, then hand it to a
/// [`Storage`](crate::Storage). Fields are public so handlers can read them;
/// the storage owns the lifecycle fields (`status`, `attempts`, timestamps).
///
/// ```
/// use std::time::Duration;
/// use hammerwork_api::{Job, JobPriority};
/// use serde_json::json;
///
/// let job = Job::new("emails", json!({"to": "a@example.com"}))
///     .with_priority(JobPriority::High)
///     .with_delay(Duration::from_secs(60))
///     .with_max_attempts(5)
///     .with_timeout(Duration::from_secs(30))
///     .with_trace_id("trace-1")
///     .with_correlation_id("order-42");
/// assert_eq!(job.queue_name, "emails");
/// assert!(job.scheduled_at > job.created_at);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Job {
    /// Unique id, assigned at construction.
    pub id: JobId,
    /// The queue a worker claims it from.
    pub queue_name: String,
    /// What the handler works on.
    pub payload: Value,
    /// Lifecycle state.
    pub status: JobStatus,
    /// Claim order within the queue.
    pub priority: JobPriority,
    /// Attempts started so far (the running one included).
    pub attempts: i32,
    /// How many times the job has been claimed, ever (kept by the storage).
    /// Unlike `attempts` it never goes back, so it fences a claim's lease:
    /// see [`Lease`](crate::Lease).
    #[serde(default)]
    pub claims: i64,
    /// Attempts allowed before the job is `Dead`.
    pub max_attempts: i32,
    /// When the job was built.
    pub created_at: DateTime<Utc>,
    /// Not claimed before this instant.
    pub scheduled_at: DateTime<Utc>,
    /// When the current (or last) attempt started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it completed.
    pub completed_at: Option<DateTime<Utc>>,
    /// When its last attempt failed.
    pub failed_at: Option<DateTime<Utc>>,
    /// While running: the worker's lease ends here unless renewed.
    pub lease_expires_at: Option<DateTime<Utc>>,
    /// Longest one attempt may run.
    pub timeout: Option<Duration>,
    /// The last failure's message.
    pub error_message: Option<String>,
    /// What the handler returned on success.
    pub result: Option<Value>,
    /// Backoff between attempts; `None` uses [`RetryPolicy::default`].
    pub retry_policy: Option<RetryPolicy>,
    /// Distributed trace id, carried into the job's tracing span.
    pub trace_id: Option<String>,
    /// Business correlation id, carried into the job's tracing span.
    pub correlation_id: Option<String>,
    /// Jobs that must complete before this one may run.
    pub depends_on: Vec<JobId>,
    /// Where this job stands with respect to `depends_on`.
    pub dependency_status: DependencyStatus,
    /// How many of `depends_on` have not completed yet (kept by the storage).
    pub pending_dependencies: i32,
    /// The workflow this job belongs to, if any.
    pub workflow_id: Option<WorkflowId>,
    /// Runs only when this expression over the parents' results is true;
    /// otherwise the job is `Skipped`. See [`Condition`](crate::workflow::Condition).
    pub condition: Option<String>,
    /// Recurs on this cron schedule (see [`Job::with_cron_schedule`]).
    pub cron_schedule: Option<String>,
    /// For a recurring job whose series has moved on: the occurrence enqueued
    /// after it (kept by the storage).
    pub next_occurrence: Option<JobId>,
    /// The job that spawned this one, if any.
    pub parent_job_id: Option<JobId>,
    /// The spawn operation that wrote this job, if any.
    pub spawn_operation_id: Option<String>,
    /// Depth in its spawn tree: 0 for a job nothing spawned.
    pub spawn_depth: u32,
    /// See [`Job::rejection`].
    #[serde(skip)]
    rejected: Option<String>,
}

/// Attempts allowed by default.
pub const DEFAULT_MAX_ATTEMPTS: i32 = 3;

impl Job {
    /// A pending job for `queue_name` carrying `payload`, runnable now.
    ///
    /// Timestamps are kept to the microsecond, the precision databases store,
    /// so a job read back compares equal to the one written.
    pub fn new(queue_name: impl Into<String>, payload: Value) -> Self {
        Self::with_id_at(
            JobId::new(),
            queue_name,
            payload,
            Utc::now().trunc_subsecs(6),
        )
    }

    /// [`new`](Self::new) with its id and clock given: a job read back from a
    /// row takes its id from the row, and needs no fresh UUID or clock read.
    pub(crate) fn with_id_at(
        id: JobId,
        queue_name: impl Into<String>,
        payload: Value,
        now: DateTime<Utc>,
    ) -> Self {
        Job {
            id,
            queue_name: queue_name.into(),
            payload,
            status: JobStatus::Pending,
            priority: JobPriority::Normal,
            attempts: 0,
            claims: 0,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            created_at: now,
            scheduled_at: now,
            started_at: None,
            completed_at: None,
            failed_at: None,
            lease_expires_at: None,
            timeout: None,
            error_message: None,
            result: None,
            retry_policy: None,
            trace_id: None,
            correlation_id: None,
            depends_on: Vec::new(),
            dependency_status: DependencyStatus::None,
            pending_dependencies: 0,
            workflow_id: None,
            condition: None,
            cron_schedule: None,
            next_occurrence: None,
            parent_job_id: None,
            spawn_operation_id: None,
            spawn_depth: 0,
            rejected: None,
        }
    }

    /// Marks the job as refused by a builder method that returns `Self`:
    /// [`validate_job`](crate::validate::validate_job) (run by every enqueue)
    /// fails with `reason`, so the mistake surfaces as a typed error rather
    /// than a panic.
    pub(crate) fn reject(mut self, reason: String) -> Self {
        self.rejected.get_or_insert(reason);
        self
    }

    /// Why this job can be neither stored nor run, if it cannot: a builder
    /// method that returns `Self` could not apply what it was asked (such as
    /// [`with_spawn_handler`](crate::spawn::JobSpawnExt::with_spawn_handler)
    /// on a payload that is not a JSON object), so enqueueing it fails with
    /// this reason; or a claim could not read a column of the stored row, so
    /// the storage ends that attempt dead with this reason instead of
    /// returning the job.
    pub fn rejection(&self) -> Option<&str> {
        self.rejected.as_deref()
    }

    /// One job over many items: its payload is the JSON array of `payloads`,
    /// processed by one handler run, and a job depending on it waits for the
    /// whole batch.
    ///
    /// ```
    /// # use hammerwork_api::Job;
    /// # use serde_json::json;
    /// let batch = Job::new_batch("resize", vec![json!({"img": 1}), json!({"img": 2})]);
    /// assert_eq!(batch.payload.as_array().unwrap().len(), 2);
    /// ```
    pub fn new_batch(queue_name: impl Into<String>, payloads: Vec<Value>) -> Self {
        Job::new(queue_name, Value::Array(payloads))
    }

    /// Like [`Job::new`] for any serialisable payload.
    ///
    /// Fails with [`Error::InvalidPayload`] when `payload` cannot be represented
    /// as JSON (for example a map with non-string keys).
    pub fn try_new<T: Serialize + ?Sized>(
        queue_name: impl Into<String>,
        payload: &T,
    ) -> Result<Self> {
        let value =
            serde_json::to_value(payload).map_err(|e| Error::InvalidPayload(e.to_string()))?;
        Ok(Job::new(queue_name, value))
    }

    /// Sets the claim priority.
    pub fn with_priority(mut self, priority: JobPriority) -> Self {
        self.priority = priority;
        self
    }

    /// Runs no earlier than `delay` after the job was built.
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.scheduled_at = later(self.created_at, delay).trunc_subsecs(6);
        self
    }

    /// Runs no earlier than `at`.
    pub fn scheduled_at(mut self, at: DateTime<Utc>) -> Self {
        self.scheduled_at = at;
        self
    }

    /// Allows `max_attempts` attempts before the job is `Dead` (at least 1).
    pub fn with_max_attempts(mut self, max_attempts: i32) -> Self {
        self.max_attempts = max_attempts;
        self
    }

    /// Fails an attempt that runs longer than `timeout`.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sets the backoff between attempts.
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry_policy = Some(policy);
        self
    }

    /// Sets the distributed trace id.
    pub fn with_trace_id(mut self, trace_id: impl Into<String>) -> Self {
        self.trace_id = Some(trace_id.into());
        self
    }

    /// Sets the business correlation id.
    pub fn with_correlation_id(mut self, correlation_id: impl Into<String>) -> Self {
        self.correlation_id = Some(correlation_id.into());
        self
    }

    /// Waits for `parent` to complete before running. Repeatable; a repeated
    /// id is kept once.
    ///
    /// Consumes and returns the job like every builder method, so write
    /// `job = job.depends_on(&parent.id)` when adding dependencies in a loop.
    pub fn depends_on(mut self, parent: &JobId) -> Self {
        if !self.depends_on.contains(parent) {
            self.depends_on.push(*parent);
        }
        self.dependency_status = DependencyStatus::Waiting;
        self
    }

    /// Waits for every job in `parents`.
    pub fn depends_on_jobs(mut self, parents: impl IntoIterator<Item = JobId>) -> Self {
        for parent in parents {
            self = self.depends_on(&parent);
        }
        self
    }

    /// Runs only if `expression` holds over the parents' results, e.g.
    /// `"validation_status == 'valid'"`. The expression is parsed when the job
    /// is enqueued; a syntax error is then [`Error::InvalidCondition`].
    pub fn with_condition(mut self, expression: impl Into<String>) -> Self {
        self.condition = Some(expression.into());
        self
    }

    /// Recurs on the cron schedule `expression` (UTC; five fields, or six with
    /// leading seconds): the job first runs at the schedule's next time, and
    /// whenever an occurrence finishes (completed, dead or skipped) the
    /// scheduler enqueues the next one at the schedule's next time after
    /// that. Cancelling an occurrence ends the series.
    ///
    /// A recurring job that depends on another recurring job waits, each time,
    /// for that job's occurrence of the same round, as in
    ///
    /// ```
    /// # use hammerwork_api::Job;
    /// # use serde_json::json;
    /// let daily_extract = Job::new("extract", json!({})).with_cron_schedule("0 2 * * *");
    /// let daily_report = Job::new("report", json!({}))
    ///     .depends_on(&daily_extract.id)
    ///     .with_cron_schedule("0 8 * * *");
    /// assert!(daily_report.scheduled_at > daily_report.created_at);
    /// ```
    ///
    /// The expression is checked when the job is enqueued (the builder cannot
    /// fail): a bad one is then [`Error::InvalidCron`]; check one earlier
    /// with [`CronSchedule::parse`](crate::schedule::CronSchedule::parse). A
    /// job inside a workflow cannot recur on its own; give the group a
    /// schedule instead.
    pub fn with_cron_schedule(mut self, expression: impl Into<String>) -> Self {
        let expression = expression.into();
        if let Some(first) = crate::schedule::CronSchedule::parse(&expression)
            .ok()
            .and_then(|s| s.next_after(self.created_at))
        {
            self.scheduled_at = first;
        }
        self.cron_schedule = Some(expression);
        self
    }

    /// When the next attempt should run if attempt `self.attempts` just failed,
    /// or `None` when no attempt is left. `random` feeds jitter (`0.0..1.0`).
    pub fn next_retry_at(&self, now: DateTime<Utc>, random: f64) -> Option<DateTime<Utc>> {
        self.retry_state().next_retry_at(now, random)
    }

    /// What [`next_retry_at`](Self::next_retry_at) reads of the job, to keep
    /// while the job itself is handed to its handler.
    pub fn retry_state(&self) -> RetryState {
        RetryState {
            attempts: self.attempts,
            max_attempts: self.max_attempts,
            policy: self.retry_policy.clone(),
        }
    }
}

/// A job's attempts and retry policy ([`Job::retry_state`]).
#[derive(Debug, Clone, PartialEq)]
pub struct RetryState {
    attempts: i32,
    max_attempts: i32,
    policy: Option<RetryPolicy>,
}

impl RetryState {
    /// As [`Job::next_retry_at`].
    pub fn next_retry_at(&self, now: DateTime<Utc>, random: f64) -> Option<DateTime<Utc>> {
        if self.attempts >= self.max_attempts {
            return None;
        }
        let policy = self.policy.clone().unwrap_or_default();
        let delay = policy.delay_for(self.attempts.max(1) as u32, random);
        Some(later(now, delay))
    }
}

/// The latest time every backend stores (MySQL's `DATETIME` ends with the
/// year 9999): later times are written as this.
pub fn latest_time() -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_micros(253_402_300_799_999_999).expect("a valid time")
}

/// `delay` after `at`, saturating at [`latest_time`] instead of overflowing.
pub fn later(at: DateTime<Utc>, delay: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(delay)
        .ok()
        .and_then(|delay| at.checked_add_signed(delay))
        .map_or_else(latest_time, |t| t.min(latest_time()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn builder_sets_fields() {
        let job = Job::new("q", json!({"a": 1}))
            .with_priority(JobPriority::Critical)
            .with_max_attempts(7)
            .with_timeout(Duration::from_secs(3))
            .with_trace_id("t")
            .with_correlation_id("c");
        assert_eq!(job.priority, JobPriority::Critical);
        assert_eq!(job.max_attempts, 7);
        assert_eq!(job.timeout, Some(Duration::from_secs(3)));
        assert_eq!(job.trace_id.as_deref(), Some("t"));
        assert_eq!(job.correlation_id.as_deref(), Some("c"));
        assert_eq!(job.status, JobStatus::Pending);
        assert_eq!(job.scheduled_at, job.created_at);
    }

    #[test]
    fn ids_are_time_ordered() {
        let a = JobId::new();
        let b = JobId::new();
        assert!(a < b);
        assert_eq!(a.to_string().parse::<JobId>().unwrap(), a);
    }

    #[test]
    fn try_new_rejects_non_json_payloads() {
        let mut map = std::collections::HashMap::new();
        map.insert((1, 2), "tuple keys are not JSON");
        assert!(matches!(
            Job::try_new("q", &map),
            Err(Error::InvalidPayload(_))
        ));
    }

    #[test]
    fn next_retry_respects_max_attempts() {
        let now = Utc::now();
        let mut job = Job::new("q", json!(null))
            .with_max_attempts(2)
            .with_retry_policy(RetryPolicy::Fixed {
                delay: Duration::from_secs(10),
            });
        job.attempts = 1;
        assert_eq!(
            job.next_retry_at(now, 0.0),
            Some(now + chrono::Duration::seconds(10))
        );
        job.attempts = 2;
        assert_eq!(job.next_retry_at(now, 0.0), None);
    }
}
