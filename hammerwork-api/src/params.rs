//! Parameter and result types of [`Storage`](crate::Storage) methods.
//!
//! They are `#[non_exhaustive]` so a field can be added without breaking every
//! backend: build them with their `new` functions.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::workflow::{Workflow, WorkflowId};
use crate::{DependencyStatus, Job, JobId, JobStatus};

/// What [`Storage::enqueue_jobs`](crate::Storage::enqueue_jobs) writes: jobs,
/// with their dependencies, and optionally the workflow they form.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct EnqueueBatch<'a> {
    /// The jobs, in the order their ids are returned.
    pub jobs: &'a [Job],
    /// The workflow record to create with them (its counters are the
    /// backend's to fill in).
    pub workflow: Option<&'a Workflow>,
}

impl<'a> EnqueueBatch<'a> {
    /// Jobs outside any new workflow.
    pub fn jobs(jobs: &'a [Job]) -> Self {
        EnqueueBatch {
            jobs,
            workflow: None,
        }
    }

    /// Jobs forming `workflow`.
    pub fn workflow(workflow: &'a Workflow, jobs: &'a [Job]) -> Self {
        EnqueueBatch {
            jobs,
            workflow: Some(workflow),
        }
    }
}

/// Paging for [`Storage::list_workflows`](crate::Storage::list_workflows):
/// ordered by id (creation order).
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ListWorkflowsParams {
    /// Only ids greater than this.
    pub after: Option<WorkflowId>,
    /// At most this many (default 100).
    pub limit: Option<u32>,
}

impl ListWorkflowsParams {
    /// The first page.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only workflows after `id`.
    pub fn after(mut self, id: WorkflowId) -> Self {
        self.after = Some(id);
        self
    }

    /// At most `limit` workflows.
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }
}

/// What [`Storage::claim_jobs`](crate::Storage::claim_jobs) claims.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClaimParams {
    /// The queue to claim from.
    pub queue: String,
    /// Claim at most this many jobs.
    pub limit: u32,
    /// The current time: only jobs with `scheduled_at <= now` are ready.
    pub now: DateTime<Utc>,
    /// The lease given to every claimed job.
    pub lease_until: DateTime<Utc>,
}

impl ClaimParams {
    /// Claim up to `limit` ready jobs of `queue` at `now`, leased until `lease_until`.
    pub fn new(
        queue: impl Into<String>,
        limit: u32,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Self {
        ClaimParams {
            queue: queue.into(),
            limit,
            now,
            lease_until,
        }
    }
}

/// A claimed attempt: the job's id and the claim number the claim gave it
/// ([`Job::claims`](crate::Job::claims)); build it with [`Lease::of`].
///
/// The claim number fences stale workers: an outcome or heartbeat for a
/// claim that is no longer the job's running one (the lease expired and the
/// job was rescued, it was cancelled, given back, or its workflow retried)
/// changes nothing. It is not the attempt number, which can repeat (an
/// unstarted give-back does not count its attempt; a workflow retry starts
/// over); claim numbers never do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Lease {
    /// The job.
    pub id: JobId,
    /// Its `claims` value when claimed.
    pub claim: i64,
}

impl Lease {
    /// The lease of `job` as a claim returned it.
    pub fn of(job: &crate::Job) -> Self {
        Lease {
            id: job.id,
            claim: job.claims,
        }
    }
}

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Outcome {
    /// The handler succeeded, optionally returning a result to store.
    Completed {
        /// The handler's result.
        result: Option<Value>,
    },
    /// The handler failed.
    Failed {
        /// Why.
        error: String,
        /// When to try again; `None` (or no attempts left) makes the job `Dead`.
        retry_at: Option<DateTime<Utc>>,
    },
    /// The worker cancelled the job.
    Cancelled {
        /// Why.
        reason: String,
    },
    /// The worker gives the job back (shutdown). When the attempt never started,
    /// it is not counted; the job is claimable again at once.
    GiveBack {
        /// Whether the handler had started (the attempt then counts).
        started: bool,
    },
}

/// One attempt's outcome, for [`Storage::settle_jobs`](crate::Storage::settle_jobs).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Settlement {
    /// The attempt being settled.
    pub lease: Lease,
    /// How it ended.
    pub outcome: Outcome,
    /// The job belongs to a workflow (a hint: `false` when unknown). Outcomes
    /// all so marked skip the one-statement settle of jobs nothing depends
    /// on, which would apply none of them.
    pub in_workflow: bool,
}

impl Settlement {
    /// Settles `lease` with `outcome`.
    pub fn new(lease: Lease, outcome: Outcome) -> Self {
        Settlement {
            lease,
            outcome,
            in_workflow: false,
        }
    }

    /// Marks the outcome as one of a workflow's job ([`in_workflow`](Self::in_workflow)).
    pub fn in_workflow(mut self, in_workflow: bool) -> Self {
        self.in_workflow = in_workflow;
        self
    }
}

/// Filters for [`Storage::list_jobs`](crate::Storage::list_jobs); results are
/// ordered by id (creation order), paged with `after`.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ListJobsParams {
    /// Only this queue.
    pub queue: Option<String>,
    /// Only this status.
    pub status: Option<JobStatus>,
    /// Only ids greater than this (keyset paging).
    pub after: Option<JobId>,
    /// At most this many (default 100).
    pub limit: Option<u32>,
    /// Only jobs of this workflow.
    pub workflow: Option<WorkflowId>,
    /// Only jobs whose dependencies stand so (`Waiting` with status `Pending`
    /// finds the jobs held by a parent that has not finished).
    pub dependency_status: Option<DependencyStatus>,
}

impl ListJobsParams {
    /// No filter; first page.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only jobs of `queue`.
    pub fn queue(mut self, queue: impl Into<String>) -> Self {
        self.queue = Some(queue.into());
        self
    }

    /// Only jobs in `status`.
    pub fn status(mut self, status: JobStatus) -> Self {
        self.status = Some(status);
        self
    }

    /// Only jobs after `id`.
    pub fn after(mut self, id: JobId) -> Self {
        self.after = Some(id);
        self
    }

    /// At most `limit` jobs.
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Only jobs of workflow `id`.
    pub fn workflow(mut self, id: WorkflowId) -> Self {
        self.workflow = Some(id);
        self
    }

    /// Only jobs whose dependency status is `status`.
    pub fn dependency_status(mut self, status: DependencyStatus) -> Self {
        self.dependency_status = Some(status);
        self
    }
}

/// How many jobs of a queue are in each status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct QueueCounts {
    /// Waiting to be claimed.
    pub pending: u64,
    /// Leased to a worker.
    pub running: u64,
    /// Finished successfully.
    pub completed: u64,
    /// Waiting for a retry.
    pub retrying: u64,
    /// Out of attempts.
    pub dead: u64,
    /// Cancelled.
    pub cancelled: u64,
    /// Skipped.
    pub skipped: u64,
}

impl QueueCounts {
    /// Adds `count` jobs in `status`.
    pub fn add(&mut self, status: JobStatus, count: u64) {
        let slot = match status {
            JobStatus::Pending => &mut self.pending,
            JobStatus::Running => &mut self.running,
            JobStatus::Completed => &mut self.completed,
            JobStatus::Retrying => &mut self.retrying,
            JobStatus::Dead => &mut self.dead,
            JobStatus::Cancelled => &mut self.cancelled,
            JobStatus::Skipped => &mut self.skipped,
        };
        *slot += count;
    }

    /// How many jobs are in `status`.
    pub fn get(&self, status: JobStatus) -> u64 {
        match status {
            JobStatus::Pending => self.pending,
            JobStatus::Running => self.running,
            JobStatus::Completed => self.completed,
            JobStatus::Retrying => self.retrying,
            JobStatus::Dead => self.dead,
            JobStatus::Cancelled => self.cancelled,
            JobStatus::Skipped => self.skipped,
        }
    }

    /// All jobs of the queue.
    pub fn total(&self) -> u64 {
        self.pending
            + self.running
            + self.completed
            + self.retrying
            + self.dead
            + self.cancelled
            + self.skipped
    }
}

/// A queue as an operator sees it, from
/// [`DatabaseQueue::queue_overview`](crate::DatabaseQueue::queue_overview).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct QueueSummary {
    /// The queue's name.
    pub queue: String,
    /// Whether claiming from it is paused.
    pub paused: bool,
    /// Its jobs per status.
    pub counts: QueueCounts,
    /// All its jobs.
    pub total: u64,
}

impl FromIterator<(JobStatus, u64)> for QueueCounts {
    fn from_iter<I: IntoIterator<Item = (JobStatus, u64)>>(counts: I) -> Self {
        let mut all = QueueCounts::default();
        for (status, count) in counts {
            all.add(status, count);
        }
        all
    }
}

/// How far a backend's wakeups reach when jobs are enqueued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WakeupScope {
    /// No wakeups: workers must poll.
    None,
    /// Enqueues in this process wake this process's workers; others must poll.
    Process,
    /// Every process's workers are woken (e.g. PostgreSQL LISTEN/NOTIFY).
    Cluster,
}

/// What a backend can do, so the runtime asks instead of matching on a
/// database name.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Capabilities {
    /// Reach of [`Storage::listen`](crate::Storage::listen).
    pub wakeups: WakeupScope,
    /// How many batches of outcomes a worker writes at once
    /// ([`Storage::settle_jobs`](crate::Storage::settle_jobs) calls in
    /// flight; at least 1). More than one suits a database that runs
    /// concurrent transactions on several cores faster than one (PostgreSQL);
    /// one suits a single writer (SQLite) or a database whose concurrent
    /// updates of neighbouring index entries wait for each other (InnoDB).
    pub settle_batches: usize,
}

impl Capabilities {
    /// A backend with the given wakeup reach, writing one batch of outcomes
    /// at a time.
    pub fn new(wakeups: WakeupScope) -> Self {
        Capabilities {
            wakeups,
            settle_batches: 1,
        }
    }

    /// Writes up to `n` batches of outcomes at once (at least 1).
    pub fn with_settle_batches(mut self, n: usize) -> Self {
        self.settle_batches = n.max(1);
        self
    }
}
