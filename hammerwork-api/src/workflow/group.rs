use std::collections::{BTreeSet, HashSet};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Error, Job, JobId, JobPriority, Result, RetryPolicy};

/// A workflow's id (a UUIDv7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WorkflowId(pub Uuid);

impl WorkflowId {
    /// A fresh, time-ordered id.
    pub fn new() -> Self {
        WorkflowId(Uuid::now_v7())
    }
}

impl Default for WorkflowId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for WorkflowId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for WorkflowId {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Uuid::parse_str(s)
            .map(WorkflowId)
            .map_err(|e| Error::Config(format!("{s:?} is not a workflow id: {e}")))
    }
}

/// What a workflow does when one of its jobs fails for good (is `Dead`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailurePolicy {
    /// Cancel every unfinished job of the workflow; the workflow is `Failed`.
    #[default]
    FailFast,
    /// Fail only the failed job's transitive dependents; other branches run on.
    ContinueOnFailure,
    /// Dependents wait and the workflow is `Paused` until an operator retries
    /// or cancels it.
    Manual,
}

impl FailurePolicy {
    /// The stored name, e.g. `"fail_fast"`.
    pub fn as_str(self) -> &'static str {
        match self {
            FailurePolicy::FailFast => "fail_fast",
            FailurePolicy::ContinueOnFailure => "continue_on_failure",
            FailurePolicy::Manual => "manual",
        }
    }
}

impl FromStr for FailurePolicy {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        [
            FailurePolicy::FailFast,
            FailurePolicy::ContinueOnFailure,
            FailurePolicy::Manual,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
        .ok_or_else(|| Error::Config(format!("unknown failure policy {s:?}")))
    }
}

/// Where a workflow stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum WorkflowStatus {
    /// Some job has not finished.
    Running,
    /// Every job finished, none failed and none was cancelled (skipped jobs
    /// are fine).
    Completed,
    /// A job failed (or the workflow timed out) and the policy ended it.
    Failed,
    /// An operator cancelled it, or cancelled some of its jobs and the rest
    /// finished without a failure.
    Cancelled,
    /// A job failed under [`FailurePolicy::Manual`]; waiting for an operator.
    Paused,
}

impl WorkflowStatus {
    /// The stored name, e.g. `"running"`.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkflowStatus::Running => "running",
            WorkflowStatus::Completed => "completed",
            WorkflowStatus::Failed => "failed",
            WorkflowStatus::Cancelled => "cancelled",
            WorkflowStatus::Paused => "paused",
        }
    }
}

impl FromStr for WorkflowStatus {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        [
            WorkflowStatus::Running,
            WorkflowStatus::Completed,
            WorkflowStatus::Failed,
            WorkflowStatus::Cancelled,
            WorkflowStatus::Paused,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
        .ok_or_else(|| Error::backend(format!("unknown workflow status {s:?}")))
    }
}

/// A workflow's job counts. The total and the terminal counts are stored on
/// the workflow and kept in the same transaction as each job's transition;
/// `running_jobs` is counted from the workflow's running jobs when read (a
/// range bounded by how many jobs run at once, not by the workflow's size),
/// and `pending_jobs` is what remains.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WorkflowStats {
    /// Jobs in the workflow.
    pub total_jobs: u64,
    /// Completed jobs.
    pub completed_jobs: u64,
    /// Dead jobs and jobs whose dependencies failed.
    pub failed_jobs: u64,
    /// Jobs not yet started (waiting or ready).
    pub pending_jobs: u64,
    /// Jobs running now.
    pub running_jobs: u64,
    /// Jobs skipped by a false condition.
    pub skipped_jobs: u64,
    /// Cancelled jobs.
    pub cancelled_jobs: u64,
}

impl WorkflowStats {
    /// The counts of a workflow as stored (`total` and the terminal counts)
    /// with `running` counted from its jobs; pending is the rest.
    pub fn from_counts(
        total: u64,
        completed: u64,
        failed: u64,
        skipped: u64,
        cancelled: u64,
        running: u64,
    ) -> Self {
        let finished = completed + failed + skipped + cancelled;
        WorkflowStats {
            total_jobs: total,
            completed_jobs: completed,
            failed_jobs: failed,
            pending_jobs: total.saturating_sub(finished).saturating_sub(running),
            running_jobs: running,
            skipped_jobs: skipped,
            cancelled_jobs: cancelled,
        }
    }

    /// Share of jobs that reached an end state, in percent (100 for an empty
    /// workflow).
    pub fn completion_percentage(&self) -> f64 {
        if self.total_jobs == 0 {
            return 100.0;
        }
        let done = self.completed_jobs + self.failed_jobs + self.skipped_jobs + self.cancelled_jobs;
        done as f64 * 100.0 / self.total_jobs as f64
    }
}

/// A set of jobs with dependencies between them, enqueued as one workflow in
/// one transaction.
///
/// `add_job` and `add_parallel_jobs` add jobs without new dependencies;
/// `then(job)` makes `job` wait for everything added before it: it depends
/// on the group's current sinks (every job added so far that no job of the
/// group depends on yet), which orders it after all of them with the fewest
/// edges (a chain of L jobs has L-1 edges; after `add_parallel_jobs` it is a
/// barrier).
///
/// ```
/// use hammerwork_api::workflow::{FailurePolicy, JobGroup};
/// use hammerwork_api::Job;
/// use serde_json::json;
///
/// let extract = Job::new("extract", json!({}));
/// let transforms = vec![
///     Job::new("transform", json!({"part": 1})).depends_on(&extract.id),
///     Job::new("transform", json!({"part": 2})).depends_on(&extract.id),
/// ];
/// let group = JobGroup::new("etl")
///     .add_job(extract)
///     .add_parallel_jobs(transforms)
///     .then(Job::new("load", json!({}))) // waits for both transforms
///     .then(Job::new("report", json!({}))) // waits for load
///     .with_failure_policy(FailurePolicy::ContinueOnFailure);
/// group.validate().unwrap();
/// assert_eq!(group.jobs()[3].depends_on.len(), 2);
/// assert_eq!(group.jobs()[4].depends_on, vec![group.jobs()[3].id]);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct JobGroup {
    /// The workflow's id.
    pub id: WorkflowId,
    /// A name for people.
    pub name: String,
    /// What it does.
    pub description: Option<String>,
    /// What a failure does.
    pub failure_policy: FailurePolicy,
    /// Unfinished jobs are cancelled and the workflow `Failed` once this has
    /// elapsed since enqueue.
    pub timeout: Option<Duration>,
    /// The default priority of its jobs (applied to jobs left at `Normal`).
    pub priority: Option<JobPriority>,
    /// Trace id given to jobs that have none.
    pub trace_id: Option<String>,
    /// Correlation id given to jobs that have none.
    pub correlation_id: Option<String>,
    /// Retry policy given to jobs that have none.
    pub retry_policy: Option<RetryPolicy>,
    /// Re-enqueued on this cron schedule (see
    /// [`with_cron_schedule`](Self::with_cron_schedule)).
    pub cron_schedule: Option<String>,
    /// When the group was built.
    pub created_at: DateTime<Utc>,
    jobs: Vec<Job>,
    /// Jobs added so far that no job of the group depends on.
    sinks: BTreeSet<JobId>,
    /// Jobs some job of the group depends on (never sinks again).
    waited_on: HashSet<JobId>,
}

impl JobGroup {
    /// An empty group named `name`.
    pub fn new(name: impl Into<String>) -> Self {
        JobGroup {
            id: WorkflowId::new(),
            name: name.into(),
            description: None,
            failure_policy: FailurePolicy::default(),
            timeout: None,
            priority: None,
            trace_id: None,
            correlation_id: None,
            retry_policy: None,
            cron_schedule: None,
            created_at: Utc::now(),
            jobs: Vec::new(),
            sinks: BTreeSet::new(),
            waited_on: HashSet::new(),
        }
    }

    /// Adds `job` as it is (its own `depends_on` kept); the next `then`
    /// waits for it.
    pub fn add_job(mut self, job: Job) -> Self {
        self.push(job);
        self
    }

    /// Adds `job` waiting for everything added before it (the group's
    /// current sinks); everything added after `then` waits for it in turn.
    pub fn then(mut self, job: Job) -> Self {
        let job = job.depends_on_jobs(self.sinks.iter().copied());
        self.push(job);
        self
    }

    /// Adds jobs that run in parallel; the next `then` waits for all of them.
    pub fn add_parallel_jobs(mut self, jobs: Vec<Job>) -> Self {
        for job in jobs {
            self.push(job);
        }
        self
    }

    /// Adds `job`, keeping the sinks: its parents are no longer sinks, and it
    /// is one unless a job added before depends on it.
    fn push(&mut self, job: Job) {
        for parent in &job.depends_on {
            self.sinks.remove(parent);
            self.waited_on.insert(*parent);
        }
        if !self.waited_on.contains(&job.id) {
            self.sinks.insert(job.id);
        }
        self.jobs.push(job);
    }

    /// Sets what a failure does (default [`FailurePolicy::FailFast`]).
    pub fn with_failure_policy(mut self, policy: FailurePolicy) -> Self {
        self.failure_policy = policy;
        self
    }

    /// Sets the description.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Fails the workflow (cancelling unfinished jobs) after `timeout`.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Default priority of the group's jobs.
    pub fn with_priority(mut self, priority: JobPriority) -> Self {
        self.priority = Some(priority);
        self
    }

    /// Trace id for jobs without one.
    pub fn with_trace_id(mut self, trace_id: impl Into<String>) -> Self {
        self.trace_id = Some(trace_id.into());
        self
    }

    /// Correlation id for jobs without one.
    pub fn with_correlation_id(mut self, correlation_id: impl Into<String>) -> Self {
        self.correlation_id = Some(correlation_id.into());
        self
    }

    /// Retry policy for jobs without one.
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry_policy = Some(policy);
        self
    }

    /// Makes the workflow recurring on the cron schedule `expression` (UTC):
    /// its jobs first run at the schedule's next time, and each time a run
    /// finishes (completed or failed) the scheduler enqueues the whole group
    /// again, with new ids, at the schedule's next time. Cancelling a run
    /// ends the series. A bad expression is [`Error::InvalidCron`](crate::Error::InvalidCron)
    /// when the group is validated or enqueued.
    pub fn with_cron_schedule(mut self, expression: impl Into<String>) -> Self {
        self.cron_schedule = Some(expression.into());
        self
    }

    /// When the workflow's jobs may first run: now, or for a recurring group
    /// the schedule's first time after the group was built.
    pub fn starts_at(&self) -> DateTime<Utc> {
        self.cron_schedule
            .as_deref()
            .and_then(|e| crate::schedule::CronSchedule::parse(e).ok())
            .and_then(|s| s.next_after(self.created_at))
            .unwrap_or(self.created_at)
    }

    /// The group's jobs, in the order added.
    pub fn jobs(&self) -> &[Job] {
        &self.jobs
    }

    /// Checks the group on its own: every dependency is a job of the group, no
    /// cycle, every condition parses. (When enqueued, a dependency may also be
    /// a job already stored.)
    pub fn validate(&self) -> Result<()> {
        if let Some(expression) = &self.cron_schedule {
            crate::schedule::CronSchedule::parse(expression)?;
        }
        crate::workflow::validate_graph(&self.jobs, |_| false)
    }

    /// The jobs ready to write: group defaults applied, each tagged with the
    /// workflow id.
    pub fn into_jobs(self) -> Vec<Job> {
        let starts_at = self.starts_at();
        let JobGroup {
            id,
            priority,
            trace_id,
            correlation_id,
            retry_policy,
            jobs,
            ..
        } = self;
        jobs.into_iter()
            .map(|mut job| {
                job.workflow_id = Some(id);
                job.scheduled_at = job.scheduled_at.max(starts_at);
                if let Some(p) = priority.filter(|_| job.priority == JobPriority::Normal) {
                    job.priority = p;
                }
                if job.trace_id.is_none() {
                    job.trace_id = trace_id.clone();
                }
                if job.correlation_id.is_none() {
                    job.correlation_id = correlation_id.clone();
                }
                if job.retry_policy.is_none() {
                    job.retry_policy = retry_policy.clone();
                }
                job
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn job(name: &str) -> Job {
        Job::new(name, json!({}))
    }

    fn parents(group: &JobGroup, id: JobId) -> Vec<JobId> {
        let mut deps = group
            .jobs()
            .iter()
            .find(|j| j.id == id)
            .unwrap()
            .depends_on
            .clone();
        deps.sort();
        deps
    }

    /// `then` waits for everything added before it that nothing in the group
    /// waits for yet, with the fewest edges.
    #[test]
    fn then_waits_for_every_job_added_before_it() {
        let (a, b, c, d, e) = (job("a"), job("b"), job("c"), job("d"), job("e"));
        let group = JobGroup::new("g")
            .add_job(a.clone())
            .then(b.clone())
            .add_parallel_jobs(vec![c.clone(), d.clone()])
            .then(e.clone());
        let mut expected = vec![b.id, c.id, d.id];
        expected.sort();
        assert_eq!(parents(&group, e.id), expected, "e must wait for b too");
        assert_eq!(parents(&group, b.id), vec![a.id]);

        // A chain keeps L-1 edges.
        let chain = (0..5).map(|i| job(&i.to_string())).collect::<Vec<_>>();
        let mut group = JobGroup::new("chain").add_job(chain[0].clone());
        for next in &chain[1..] {
            group = group.then(next.clone());
        }
        let edges: usize = group.jobs().iter().map(|j| j.depends_on.len()).sum();
        assert_eq!(edges, 4);

        // Fan-out / fan-in: the aggregate waits for the chunks, not again for
        // the split they depend on; a job added before the job it depends on
        // is not a sink either.
        let split = job("split");
        let chunks: Vec<Job> = (0..3)
            .map(|i| {
                job("chunk").depends_on(&split.id).with_priority(if i == 0 {
                    JobPriority::High
                } else {
                    JobPriority::Normal
                })
            })
            .collect();
        let late = job("late");
        let early = job("early").depends_on(&late.id);
        let aggregate = job("aggregate");
        let group = JobGroup::new("fan")
            .add_job(split.clone())
            .add_parallel_jobs(chunks.clone())
            .add_job(early.clone())
            .add_job(late.clone())
            .then(aggregate.clone());
        let mut expected: Vec<JobId> = chunks.iter().map(|c| c.id).collect();
        expected.push(early.id);
        expected.sort();
        assert_eq!(parents(&group, aggregate.id), expected);
    }
}
