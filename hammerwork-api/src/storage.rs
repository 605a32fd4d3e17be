use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::schedule::{
    plan_job_recurrence, plan_workflow_recurrence, JobRecurrencePlan, Recurrence, RecurrenceCursor,
    RecurrenceSource, SeriesBackoff,
};
use crate::spawn::{Lineage, SpawnOperation, SpawnQuery, SpawnSet, SpawnStats, SpawnTree};
use crate::workflow::{JobGroup, Workflow, WorkflowId, WorkflowStats, WorkflowStatus};
use crate::{
    Capabilities, ClaimParams, EnqueueBatch, Error, Job, JobId, Lease, ListJobsParams,
    ListWorkflowsParams, QueueCounts, QueueSummary, Result, Settlement,
};

/// The one seam between the Hammerwork runtime and a database.
///
/// Each method is one atomic operation: it runs in one transaction (or one
/// statement) and either fully happens or not at all. The runtime never
/// composes two calls and hopes nothing happened in between. Methods that
/// compare with the clock take `now`, so behaviour is testable without sleeping.
///
/// To add a database, implement this trait and run `hammerwork-testkit`'s
/// conformance suite against it: passing it means the runtime can rely on
/// your backend exactly as on the built-in ones.
#[async_trait]
pub trait Storage: Send + Sync + 'static {
    /// What this backend can do (e.g. push wakeups).
    fn capabilities(&self) -> Capabilities;

    /// The size limits this storage enforces ([`Limits`](crate::Limits)):
    /// by default the defaults.
    fn limits(&self) -> crate::Limits {
        crate::Limits::default()
    }

    /// The database server's current time. Workers measure their offset to
    /// it and work by it, so leases and readiness are judged by one clock
    /// however far the workers' hosts drift. By default (an embedded
    /// database, on the worker's own host) the local clock.
    async fn database_time(&self) -> Result<DateTime<Utc>> {
        Ok(Utc::now())
    }

    /// Writes a batch of jobs, with their dependencies and optionally the
    /// workflow they form, in one transaction: all or nothing. Returns the ids
    /// in input order.
    ///
    /// Before writing: [`validate_jobs`](crate::validate::validate_jobs), then
    /// [`validate_graph`](crate::workflow::validate_graph) with the stored jobs
    /// the batch depends on (read under a row lock, so none of them can
    /// finish between this check and the insert), then
    /// [`plan_enqueue`](crate::workflow::plan_enqueue) for each job's initial
    /// state. A dependent of a stored completed job is satisfied at once, of a
    /// failed one dead at once. The workflow row gets its counters from the
    /// plan. Wakes listeners of queues that got a claimable job, on commit.
    ///
    /// Errors: `InvalidJob`, `DuplicateJob`, `Cycle`, `MissingDependency`,
    /// `InvalidCondition`; nothing is written then.
    async fn enqueue_jobs(&self, batch: EnqueueBatch<'_>) -> Result<Vec<JobId>>;

    /// Claims up to `limit` ready jobs of a queue, in one statement: status
    /// `Pending` or `Retrying`, `scheduled_at <= now`, highest priority first,
    /// then earliest `scheduled_at`. Each becomes `Running` with `attempts`
    /// incremented and a lease until `lease_until`.
    ///
    /// Concurrent claimers never receive the same job (rows are locked with
    /// `SKIP LOCKED` semantics, so claimers do not wait on each other).
    /// The returned jobs are in claim order.
    async fn claim_jobs(&self, params: ClaimParams) -> Result<Vec<Job>>;

    /// The earliest `scheduled_at` later than `after` among the jobs of
    /// `queue` that wait only for their time (pending or retrying, no
    /// dependency holding them): when an idle worker must claim next. Reads
    /// only; one seek of the claim index per priority level, however many jobs
    /// are scheduled. Workers sleep until it instead of polling, so a delayed
    /// job, a retry after backoff or a cron occurrence starts on time.
    ///
    /// The default, for a storage that cannot tell, is `None`: workers then
    /// find such jobs by polling.
    async fn next_due(&self, queue: &str, after: DateTime<Utc>) -> Result<Option<DateTime<Utc>>> {
        let _ = (queue, after);
        Ok(None)
    }

    /// Applies a batch of attempt outcomes.
    ///
    /// Atomic per outcome: a job's transition and everything it implies
    /// (dependents released or failed, workflow counters, wakeups) commit
    /// together. A backend may commit one batch in more than one transaction
    /// (the MySQL backend settles jobs that nothing depends on in one
    /// statement, before the others).
    ///
    /// Only an attempt that is still the job's current running attempt (same
    /// `attempts`, status `Running`) is changed; stale ones are ignored. A
    /// failure with a `retry_at` and attempts left becomes `Retrying` at
    /// `retry_at`, otherwise `Dead`. Returns how many jobs changed.
    ///
    /// In the same transaction, for dependencies: each completed job is
    /// counted off its dependents (O(1) per edge; the dependent's row lock
    /// serialises concurrent parents, so exactly one sees the count reach 0);
    /// a dependent at 0 has its condition evaluated against its parents'
    /// results and becomes claimable (listeners woken) or `Skipped`, and a
    /// skipped job's dependents are skipped. A `Dead` job applies its
    /// workflow's [`FailurePolicy`](crate::workflow::FailurePolicy) (outside a
    /// workflow: its dependents become `Dead`); a cancelled job's dependents
    /// are cancelled. Workflow counters follow every transition.
    async fn settle_jobs(&self, settlements: &[Settlement], now: DateTime<Utc>) -> Result<u64>;

    /// Extends the leases of these running attempts to `lease_until`, in one
    /// statement. Returns how many were still running and got extended.
    async fn heartbeat_jobs(&self, leases: &[Lease], lease_until: DateTime<Utc>) -> Result<u64>;

    /// Returns running jobs whose lease ended before `now` to `Pending` (their
    /// attempt counted), or makes them `Dead` when no attempt is left (then
    /// applying failure handling as [`settle_jobs`](Self::settle_jobs) does).
    /// Safe to run from many processes at once. Returns how many jobs it rescued.
    async fn rescue_expired_jobs(&self, now: DateTime<Utc>) -> Result<u64>;

    /// The job with this id, if any.
    async fn get_job(&self, id: JobId) -> Result<Option<Job>>;

    /// The jobs with these ids that exist, ordered by id (e.g. a job's
    /// parents, to read their results).
    async fn get_jobs(&self, ids: &[JobId]) -> Result<Vec<Job>>;

    /// Jobs matching `params`, ordered by id.
    async fn list_jobs(&self, params: ListJobsParams) -> Result<Vec<Job>>;

    /// How many jobs of `queue` are in each status.
    async fn queue_counts(&self, queue: &str) -> Result<QueueCounts>;

    /// Cancels a job that has not finished, at `now`. Returns `true` when it
    /// was cancelled, `false` when it had already finished, and
    /// [`Error::NotFound`](crate::Error::NotFound) when there is no such job.
    /// A running attempt's later outcome is then ignored, and the job's
    /// transitive dependents are cancelled in the same transaction. (Users
    /// call [`DatabaseQueue::cancel_job`], which reads the clock.)
    async fn cancel_job_at(&self, id: JobId, now: DateTime<Utc>) -> Result<bool>;

    /// Puts a `Dead` or `Cancelled` job outside any workflow back to
    /// `Pending`, due at `now`, with fresh attempts and no error, in one
    /// transaction, and wakes its queue. Its dependents that already ended
    /// stay as they are. [`Error::NotFound`] when there is no such job;
    /// [`Error::NotApplicable`] when it is not dead or cancelled, belongs to
    /// a workflow (retry the workflow, which also recounts its dependents),
    /// or depends on a job that did not complete. (Users call
    /// [`DatabaseQueue::retry_job`], which reads the clock.)
    async fn retry_job_at(&self, id: JobId, now: DateTime<Utc>) -> Result<()>;

    /// The workflow with this id, with its counters (one row read).
    async fn get_workflow(&self, id: WorkflowId) -> Result<Option<Workflow>>;

    /// Workflows in creation order.
    async fn list_workflows(&self, params: ListWorkflowsParams) -> Result<Vec<Workflow>>;

    /// Cancels every unfinished job of the workflow (and the unfinished spawned
    /// jobs one of them awaits, see
    /// [`SpawnConfig::with_await_children`](crate::spawn::SpawnConfig::with_await_children))
    /// and marks it `Cancelled`, in one transaction. `false` when it had
    /// already finished;
    /// [`Error::WorkflowNotFound`] when there is no such workflow. (Users call
    /// [`DatabaseQueue::cancel_workflow`], which reads the clock.)
    async fn cancel_workflow_at(&self, id: WorkflowId, now: DateTime<Utc>) -> Result<bool>;

    /// Puts the workflow's dead and cancelled jobs (and the dead and cancelled
    /// spawned jobs one of them awaits) back to `Pending` with fresh attempts,
    /// recounts the unfinished dependencies of the jobs it reset and of the
    /// workflow's pending jobs, and marks it `Running`, in one transaction.
    /// Returns how many jobs were reset. (Users call
    /// [`DatabaseQueue::retry_workflow`], which reads the clock.)
    async fn retry_workflow_at(&self, id: WorkflowId, now: DateTime<Utc>) -> Result<u64>;

    /// Fails every unfinished workflow whose deadline is before `now`,
    /// cancelling its unfinished jobs (as `cancel_workflow` does), in one
    /// transaction. Returns how many
    /// workflows expired.
    async fn expire_workflows(&self, now: DateTime<Utc>) -> Result<u64>;

    /// Up to `limit` jobs and up to `limit` workflows after `cursor`, each in
    /// id order: finished recurring occurrences whose series has not been
    /// continued: jobs with a cron schedule in a terminal status, and
    /// recurring workflows with no job pending or running (or cancelled),
    /// that [`advance_recurrence`](Self::advance_recurrence) has not been
    /// called for. Costs O(due series) for jobs and O(live recurring
    /// workflows) for workflows, never a scan of the jobs.
    async fn list_recurrences(
        &self,
        cursor: RecurrenceCursor,
        limit: u32,
    ) -> Result<Vec<Recurrence>>;

    /// Continues (or ends) a series in one transaction: if `source` is still
    /// un-continued, marks it continued, enqueues `next` exactly as
    /// [`enqueue_jobs`](Self::enqueue_jobs) would, and records the new
    /// occurrence as the source's `next_occurrence` (the batch's first job for
    /// a job source, the batch's workflow for a workflow source); `next =
    /// None` ends the series. Returns `false`, writing nothing, when the
    /// source was already continued (another scheduler got there first), so
    /// a series never forks.
    async fn advance_recurrence(
        &self,
        source: RecurrenceSource,
        next: Option<EnqueueBatch<'_>>,
    ) -> Result<bool>;

    /// Completes the claimed attempt `lease` with `result` and writes `spawn`
    /// (the operation record and the children, validated and inserted as
    /// [`enqueue_jobs`](Self::enqueue_jobs) would, `spawn.batch_size` at a
    /// time), all in one transaction. With `spawn.await_children`, each
    /// dependent of the parent that is still waiting first gets every child
    /// as one more dependency (edge, `depends_on` entry and pending count), so
    /// it is released only when the children have finished too (and a child
    /// that is dead at once fails it). The completion has every consequence
    /// [`settle_jobs`](Self::settle_jobs) gives it (dependents released,
    /// workflow counters), before the children are written, so a child that
    /// depends on the parent is satisfied at once. Returns `false`, writing
    /// nothing, when the attempt is no longer current (already settled,
    /// rescued, cancelled): a repeated call never spawns twice. Bad children
    /// (a cycle, a missing dependency) and an operation id already taken
    /// ([`SpawnError::DuplicateOperation`](crate::spawn::SpawnError)) are
    /// errors with nothing written, the parent still running.
    async fn complete_and_spawn(
        &self,
        lease: Lease,
        result: Option<serde_json::Value>,
        spawn: &SpawnSet,
        now: DateTime<Utc>,
    ) -> Result<bool>;

    /// The spawn operation with this id.
    async fn get_spawn_operation(&self, id: &str) -> Result<Option<SpawnOperation>>;

    /// Spawn operations matching `query`, newest first.
    async fn list_spawn_operations(&self, query: SpawnQuery) -> Result<Vec<SpawnOperation>>;

    /// Figures over the operations matching `query` (its limit is ignored).
    async fn spawn_stats(&self, query: SpawnQuery) -> Result<SpawnStats>;

    /// Everything spawned under job `id` down to `max_depth` levels (its
    /// children are level 1), level by level; one recursive query.
    async fn get_descendants(&self, id: JobId, max_depth: u32) -> Result<Vec<Job>>;

    /// The jobs that spawned job `id`: its parent first, the root last; one
    /// recursive query.
    async fn get_ancestors(&self, id: JobId) -> Result<Vec<Job>>;

    /// The jobs job `id` depends on, ordered by id: those it declared
    /// (`depends_on`) and the children grafted on it by a parent that awaits
    /// them ([`SpawnConfig::with_await_children`]), which are dependency
    /// edges only and never rewrite `depends_on`. One indexed query.
    ///
    /// [`SpawnConfig::with_await_children`]: crate::spawn::SpawnConfig::with_await_children
    async fn get_dependencies(&self, id: JobId) -> Result<Vec<Job>>;

    /// The jobs that depend on job `id`, ordered by id: those that declared
    /// it (`depends_on`) and, where `id` was grafted on a parent that awaits
    /// its children, that parent's dependents. The mirror of
    /// [`get_dependencies`](Self::get_dependencies), read through the same
    /// edges (by their primary key's prefix).
    async fn get_dependents(&self, id: JobId) -> Result<Vec<Job>>;

    /// Takes or renews the leadership of `role` (such as
    /// [`SCHEDULER_ROLE`](crate::schedule::SCHEDULER_ROLE)) for `holder`, a
    /// name unique to the caller, until `ttl` from now by the database's
    /// clock. At most one holder leads a role at a time; a leader that stops
    /// renewing loses it when `ttl` has passed, and another caller takes
    /// it. Returns whether `holder` leads now. By default every caller
    /// leads (correct for the scheduler, whose work is idempotent, only
    /// repeated); the built-in backends keep a lease row.
    async fn try_lead(&self, role: &str, holder: &str, ttl: std::time::Duration) -> Result<bool> {
        let _ = (role, holder, ttl);
        Ok(true)
    }

    /// Pauses `queue`: from the moment this returns, no claim takes a job from
    /// it (a claim already under way may still finish); jobs can still be
    /// enqueued, and running jobs finish. Pausing a queue that holds no job
    /// is allowed. Returns `false` when it was already paused. One
    /// transaction; the pause is stored, so it holds for every worker of
    /// every process and survives restarts.
    async fn pause_queue(&self, queue: &str) -> Result<bool>;

    /// Resumes a paused `queue` and wakes its idle workers, in one
    /// transaction. Returns `false` when it was not paused.
    async fn resume_queue(&self, queue: &str) -> Result<bool>;

    /// The paused queues, in name order.
    async fn paused_queues(&self) -> Result<Vec<String>>;

    /// The queues that hold jobs, in name order (one short index walk per
    /// queue, not a scan of the jobs).
    async fn list_queues(&self) -> Result<Vec<String>>;

    /// Prunes, at `now`, up to `limit` finished jobs of one queue and
    /// status whose retention under `policy` has passed, in one transaction,
    /// oldest first, going through the queues and final statuses in turn
    /// until `limit` is reached (see
    /// [`RetentionPolicy`](crate::retention::RetentionPolicy) for what is
    /// kept whatever its age). Deletes each job's dependency edges and the
    /// spawn records it made with it. The maintenance leader of the workers
    /// calls it every second with the policy the workers were given (`Worker::with_retention`);
    /// see [`prune`](Self::prune) for an operator's one-off pass.
    async fn prune_at(
        &self,
        policy: &crate::retention::RetentionPolicy,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<crate::retention::Pruned>;

    /// Prunes every finished job whose retention under `policy` has passed
    /// by the database's clock, in transactions of up to 5,000 jobs, until
    /// one deletes nothing (a parent goes in the transaction after its last
    /// dependent), and returns the total deleted.
    async fn prune(
        &self,
        policy: &crate::retention::RetentionPolicy,
    ) -> Result<crate::retention::Pruned> {
        let now = self.database_time().await?;
        let mut total = crate::retention::Pruned::default();
        loop {
            let batch = crate::retention::PRUNE_BATCH;
            let pruned = self.prune_at(policy, now, batch).await?;
            total += pruned;
            if pruned.jobs == 0 {
                return Ok(total);
            }
        }
    }

    /// Gives the database back the space of finished and deleted rows when
    /// enough of them has piled up for claims to slow down, so a queue with
    /// a long history claims as fast as a new one. PostgreSQL keeps every
    /// row version a job leaves behind (three writes per job) until a
    /// VACUUM: it vacuums the jobs table once 50,000 plus a tenth of its live
    /// rows more dead row versions than its last vacuum left have piled up,
    /// whatever autovacuum does, unless a vacuum of it is running or ended
    /// in the last 2 s, and only when the connection's role owns the table.
    /// MySQL/MariaDB (InnoDB purges on its own), SQLite and memory do
    /// nothing. Returns whether it reclaimed. The maintenance leader of the
    /// workers ([`MAINTENANCE_ROLE`](crate::retention::MAINTENANCE_ROLE))
    /// calls it every second; an operator may call it any time. By default
    /// nothing.
    async fn reclaim_space(&self) -> Result<bool> {
        Ok(false)
    }

    /// Gives up `role` if `holder` leads it, so another caller can take it
    /// at once (a worker does so when it stops). By default nothing.
    async fn resign(&self, role: &str, holder: &str) -> Result<()> {
        let _ = (role, holder);
        Ok(())
    }

    /// Subscribes to enqueue wakeups, when
    /// [`Capabilities::wakeups`](crate::Capabilities) is not `None`. The default
    /// has none: workers then poll.
    async fn listen(&self) -> Result<Option<Box<dyn WakeupListener>>> {
        Ok(None)
    }
}

/// A subscription to "new work in queue X" notifications.
#[async_trait]
pub trait WakeupListener: Send {
    /// The next queue that received work, or `None` when the subscription ended
    /// (the runtime then re-subscribes and meanwhile polls).
    async fn recv(&mut self) -> Option<String>;
}

/// The queue as an application uses it: enqueue jobs and workflows, follow
/// and steer them. Implemented for every [`Storage`] (import it, or
/// `hammerwork::queue::DatabaseQueue`, to call these methods).
///
/// ```
/// # async fn demo(queue: impl hammerwork_api::DatabaseQueue) -> hammerwork_api::Result<()> {
/// use hammerwork_api::{Job, JobGroup, WorkflowStatus};
/// use serde_json::json;
///
/// let extract = Job::new("extract", json!({"table": "customers"}));
/// let load = Job::new("load", json!({})).depends_on(&extract.id);
/// queue.enqueue(extract).await?;
/// queue.enqueue(load).await?;
///
/// let id = queue
///     .enqueue_workflow(JobGroup::new("etl").add_job(Job::new("a", json!({}))))
///     .await?;
/// if queue.get_workflow_status(id).await? == WorkflowStatus::Running {
///     queue.cancel_workflow(id).await?;
/// }
/// # Ok(()) }
/// ```
#[async_trait]
pub trait DatabaseQueue: Storage {
    /// Enqueues one job; returns its id.
    async fn enqueue(&self, job: Job) -> Result<JobId> {
        let ids = self
            .enqueue_jobs(EnqueueBatch::jobs(std::slice::from_ref(&job)))
            .await?;
        Ok(ids[0])
    }

    /// Enqueues many jobs in one transaction; returns their ids in order.
    async fn enqueue_many(&self, jobs: Vec<Job>) -> Result<Vec<JobId>> {
        self.enqueue_jobs(EnqueueBatch::jobs(&jobs)).await
    }

    /// Enqueues a whole workflow (its jobs, their dependencies and the
    /// workflow record) in one transaction; returns its id.
    async fn enqueue_workflow(&self, group: JobGroup) -> Result<WorkflowId> {
        let workflow = Workflow::from_group(&group);
        let jobs = group.into_jobs();
        self.enqueue_jobs(EnqueueBatch::workflow(&workflow, &jobs))
            .await?;
        Ok(workflow.id)
    }

    /// The scheduler's tick: enqueues the next occurrence of every finished
    /// recurring job and workflow (see [`schedule`](crate::schedule)), each
    /// in its own transaction with marking the finished one continued.
    /// Returns how many series moved on (continued or ended). Safe to run
    /// from any number of processes at once (workers elect one, with
    /// [`try_lead`](Storage::try_lead)). A series that fails to move
    /// (logged) stays for the next tick without holding up the others; to
    /// back such a series off across ticks, keep a
    /// [`SeriesBackoff`](crate::schedule::SeriesBackoff) and call
    /// [`advance_recurrences_with`](Self::advance_recurrences_with).
    async fn advance_recurrences(&self, now: DateTime<Utc>) -> Result<u64> {
        self.advance_recurrences_with(now, &mut SeriesBackoff::new())
            .await
    }

    /// [`advance_recurrences`](Self::advance_recurrences), skipping the
    /// series `backoff` holds back at `now` and recording in it which
    /// failed and which moved.
    async fn advance_recurrences_with(
        &self,
        now: DateTime<Utc>,
        backoff: &mut SeriesBackoff,
    ) -> Result<u64> {
        const PAGE: u32 = 500;
        let mut advanced = 0;
        // Every series due this tick; a failing one no longer listed (it
        // was cancelled, or moved on elsewhere) is forgotten at the end.
        let mut listed = std::collections::HashSet::new();
        // Each pass pages through every due series in id order, so series
        // that cannot move yet never hide the ones after them. A job waiting
        // for its recurring parent's series moves in the next pass, after
        // that parent has.
        loop {
            let mut cursor = RecurrenceCursor::default();
            let mut progress = 0;
            loop {
                let due = self.list_recurrences(cursor, PAGE).await?;
                listed.extend(due.iter().map(Recurrence::source));
                let ready: Vec<&Recurrence> = due
                    .iter()
                    .filter(|r| backoff.ready(r.source(), now))
                    .collect();
                // Every parent of the page's jobs, resolved to its current
                // occurrence, in a few reads for the whole page.
                let parents: Vec<JobId> = ready
                    .iter()
                    .filter_map(|r| match r {
                        Recurrence::Job(job) => Some(job.depends_on.iter().copied()),
                        _ => None,
                    })
                    .flatten()
                    .collect();
                // When that read fails (a parent row that cannot be read),
                // each series reads its own, so only the series concerned
                // wait.
                let current = match current_occurrences(self, &parents).await {
                    Ok(current) => Some(current),
                    Err(error) => {
                        tracing::warn!(error = %error, "reading recurring parents failed; one series at a time");
                        None
                    }
                };
                for recurrence in ready {
                    let source = recurrence.source();
                    // One series that cannot move (a bad row, a refused
                    // write) must not stop the others: it is tried again
                    // after its backoff.
                    match advance_one(self, recurrence, current.as_ref(), now).await {
                        Ok(moved) => {
                            backoff.succeeded(source);
                            progress += u64::from(moved);
                        }
                        Err(error) => {
                            let retry_at = backoff.failed(source, now);
                            tracing::warn!(
                                error = %error,
                                series = ?source,
                                failures = backoff.failures(source),
                                %retry_at,
                                "continuing a recurring series failed"
                            );
                        }
                    }
                }
                let count = |workflows: bool| {
                    due.iter()
                        .filter(|r| matches!(r, Recurrence::Workflow(_)) == workflows)
                        .count()
                };
                if count(false) < PAGE as usize && count(true) < PAGE as usize {
                    break;
                }
                cursor = cursor.past(&due);
            }
            advanced += progress;
            if progress == 0 {
                backoff.retain_listed(&listed);
                return Ok(advanced);
            }
        }
    }

    /// Cancels job `id` if it has not finished, and what waits on it: see
    /// [`Storage::cancel_job_at`]. `false` when it had already finished;
    /// [`Error::NotFound`] when there is no such job.
    async fn cancel_job(&self, id: JobId) -> Result<bool> {
        self.cancel_job_at(id, Utc::now()).await
    }

    /// Cancels every unfinished job of workflow `id`: see
    /// [`Storage::cancel_workflow_at`]. `false` when it had already finished;
    /// [`Error::WorkflowNotFound`] when there is no such workflow.
    async fn cancel_workflow(&self, id: WorkflowId) -> Result<bool> {
        self.cancel_workflow_at(id, Utc::now()).await
    }

    /// Runs workflow `id`'s dead and cancelled jobs again: see
    /// [`Storage::retry_job_at`] now: a dead or cancelled job outside any
    /// workflow runs again with fresh attempts.
    async fn retry_job(&self, id: JobId) -> Result<()> {
        self.retry_job_at(id, Utc::now()).await
    }

    /// [`Storage::retry_workflow_at`]. Returns how many jobs were reset.
    async fn retry_workflow(&self, id: WorkflowId) -> Result<u64> {
        self.retry_workflow_at(id, Utc::now()).await
    }

    /// The jobs job `id` spawned.
    async fn get_children(&self, id: JobId) -> Result<Vec<Job>> {
        self.get_descendants(id, 1).await
    }

    /// Job `id` and what it spawned, to `max_depth` levels;
    /// [`Error::NotFound`] if there is no such job.
    async fn get_spawn_tree(&self, id: JobId, max_depth: u32) -> Result<SpawnTree> {
        let root = self.get_job(id).await?.ok_or(Error::NotFound { id })?;
        let descendants = self.get_descendants(id, max_depth).await?;
        Ok(SpawnTree::build(root, descendants))
    }

    /// Job `id`'s ancestors and its descendants to `max_depth` levels;
    /// [`Error::NotFound`] if there is no such job.
    async fn get_lineage(&self, id: JobId, max_depth: u32) -> Result<Lineage> {
        let job = self.get_job(id).await?.ok_or(Error::NotFound { id })?;
        Ok(Lineage {
            ancestors: self.get_ancestors(id).await?,
            descendants: self.get_descendants(id, max_depth).await?,
            job,
        })
    }

    /// The workflow's current status; [`Error::WorkflowNotFound`] if unknown.
    async fn get_workflow_status(&self, id: WorkflowId) -> Result<WorkflowStatus> {
        Ok(self
            .get_workflow(id)
            .await?
            .ok_or(Error::WorkflowNotFound { id })?
            .status())
    }

    /// Every job of workflow `id` in id order, read a page of 1,000 at a
    /// time (empty for an unknown workflow).
    async fn get_workflow_jobs(&self, id: WorkflowId) -> Result<Vec<Job>> {
        workflow_jobs(self, id).await
    }

    /// Every queue that holds jobs or is paused, in name order, with whether
    /// it is paused and its counts per status (one `queue_counts` read per
    /// queue).
    async fn queue_overview(&self) -> Result<Vec<QueueSummary>> {
        let paused = self.paused_queues().await?;
        let mut queues = self.list_queues().await?;
        queues.extend(paused.iter().cloned());
        queues.sort();
        queues.dedup();
        let mut rows = Vec::with_capacity(queues.len());
        for queue in queues {
            let counts = self.queue_counts(&queue).await?;
            rows.push(QueueSummary {
                paused: paused.contains(&queue),
                total: counts.total(),
                queue,
                counts,
            });
        }
        Ok(rows)
    }

    /// The workflow's job counts; [`Error::WorkflowNotFound`] if unknown.
    async fn get_workflow_stats(&self, id: WorkflowId) -> Result<WorkflowStats> {
        Ok(self
            .get_workflow(id)
            .await?
            .ok_or(Error::WorkflowNotFound { id })?
            .stats)
    }
}

impl<S: Storage + ?Sized> DatabaseQueue for S {}

/// Names the database a storage runs on (sqlx's type: `sqlx::Postgres`,
/// `sqlx::MySql`, `sqlx::Sqlite`), so that a
/// [`SpawnHandler<DB>`](crate::spawn::SpawnHandler) is attached only to
/// workers of that database.
pub trait StorageDatabase {
    /// The database type.
    type Database: 'static;
}

/// Jobs `ids`, each resolved to the newest occurrence of its series (a job
/// that does not recur is itself), keyed by the id asked for: one read per
/// generation for all of them, not one per job.
async fn current_occurrences<S: Storage + ?Sized>(
    storage: &S,
    ids: &[JobId],
) -> Result<HashMap<JobId, Job>> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids.dedup();
    let mut current = HashMap::with_capacity(ids.len());
    // For each id to read: the ids asked for that it stands for, and the
    // occurrence it succeeds (the current one if it is gone).
    let mut asked: HashMap<JobId, (Vec<JobId>, Option<Job>)> =
        ids.iter().map(|id| (*id, (vec![*id], None))).collect();
    while !ids.is_empty() {
        let mut next: HashMap<JobId, (Vec<JobId>, Option<Job>)> = HashMap::new();
        for job in storage.get_jobs(&ids).await? {
            let Some((origins, _)) = asked.remove(&job.id) else {
                continue;
            };
            match job.next_occurrence {
                Some(successor) => {
                    let entry = next.entry(successor).or_default();
                    entry.0.extend(origins);
                    entry.1 = Some(job);
                }
                None => {
                    for origin in origins {
                        current.insert(origin, job.clone());
                    }
                }
            }
        }
        // A successor that is gone leaves its predecessor current (a job
        // asked for that is gone is left out).
        for (origins, predecessor) in asked.into_values() {
            if let Some(predecessor) = predecessor {
                for origin in origins {
                    current.insert(origin, predecessor.clone());
                }
            }
        }
        ids = next.keys().copied().collect();
        asked = next;
    }
    Ok(current)
}

/// Continues (or ends) one due series, with its parents' current
/// occurrences from `current` (read here when `None`); `false` when it cannot
/// move yet or another scheduler moved it first.
async fn advance_one<S: Storage + ?Sized>(
    storage: &S,
    recurrence: &Recurrence,
    current: Option<&HashMap<JobId, Job>>,
    now: DateTime<Utc>,
) -> Result<bool> {
    Ok(match recurrence {
        Recurrence::Job(job) => {
            let own;
            let current = match current {
                Some(current) => current,
                None => {
                    own = current_occurrences(storage, &job.depends_on).await?;
                    &own
                }
            };
            let parents: Vec<Job> = job
                .depends_on
                .iter()
                .filter_map(|id| current.get(id).cloned())
                .collect();
            match plan_job_recurrence(job, &parents, now) {
                JobRecurrencePlan::WaitForParent(_) => false,
                JobRecurrencePlan::End => {
                    storage
                        .advance_recurrence(RecurrenceSource::Job(job.id), None)
                        .await?
                }
                JobRecurrencePlan::Next(next) => {
                    storage
                        .advance_recurrence(
                            RecurrenceSource::Job(job.id),
                            Some(EnqueueBatch::jobs(std::slice::from_ref(&next))),
                        )
                        .await?
                }
            }
        }
        Recurrence::Workflow(workflow) => {
            let jobs = workflow_jobs(storage, workflow.id).await?;
            let source = RecurrenceSource::Workflow(workflow.id);
            match plan_workflow_recurrence(workflow, &jobs, now) {
                None => storage.advance_recurrence(source, None).await?,
                Some((next, jobs)) => {
                    storage
                        .advance_recurrence(source, Some(EnqueueBatch::workflow(&next, &jobs)))
                        .await?
                }
            }
        }
    })
}

/// Every job of workflow `id`.
async fn workflow_jobs<S: Storage + ?Sized>(storage: &S, id: WorkflowId) -> Result<Vec<Job>> {
    const PAGE: u32 = 1_000;
    let mut jobs: Vec<Job> = Vec::new();
    loop {
        let mut params = ListJobsParams::new().workflow(id).limit(PAGE);
        if let Some(last) = jobs.last() {
            params = params.after(last.id);
        }
        let page = storage.list_jobs(params).await?;
        let full = page.len() as u32 == PAGE;
        jobs.extend(page);
        if !full {
            return Ok(jobs);
        }
    }
}

#[async_trait]
impl<S: Storage + ?Sized> Storage for Arc<S> {
    fn capabilities(&self) -> Capabilities {
        (**self).capabilities()
    }
    fn limits(&self) -> crate::Limits {
        (**self).limits()
    }
    async fn database_time(&self) -> Result<DateTime<Utc>> {
        (**self).database_time().await
    }
    async fn enqueue_jobs(&self, batch: EnqueueBatch<'_>) -> Result<Vec<JobId>> {
        (**self).enqueue_jobs(batch).await
    }
    async fn claim_jobs(&self, params: ClaimParams) -> Result<Vec<Job>> {
        (**self).claim_jobs(params).await
    }
    async fn next_due(&self, queue: &str, after: DateTime<Utc>) -> Result<Option<DateTime<Utc>>> {
        (**self).next_due(queue, after).await
    }
    async fn settle_jobs(&self, settlements: &[Settlement], now: DateTime<Utc>) -> Result<u64> {
        (**self).settle_jobs(settlements, now).await
    }
    async fn heartbeat_jobs(&self, leases: &[Lease], lease_until: DateTime<Utc>) -> Result<u64> {
        (**self).heartbeat_jobs(leases, lease_until).await
    }
    async fn rescue_expired_jobs(&self, now: DateTime<Utc>) -> Result<u64> {
        (**self).rescue_expired_jobs(now).await
    }
    async fn get_job(&self, id: JobId) -> Result<Option<Job>> {
        (**self).get_job(id).await
    }
    async fn get_jobs(&self, ids: &[JobId]) -> Result<Vec<Job>> {
        (**self).get_jobs(ids).await
    }
    async fn get_workflow(&self, id: WorkflowId) -> Result<Option<Workflow>> {
        (**self).get_workflow(id).await
    }
    async fn retry_job_at(&self, id: JobId, now: DateTime<Utc>) -> Result<()> {
        (**self).retry_job_at(id, now).await
    }
    async fn list_workflows(&self, params: ListWorkflowsParams) -> Result<Vec<Workflow>> {
        (**self).list_workflows(params).await
    }
    async fn cancel_workflow_at(&self, id: WorkflowId, now: DateTime<Utc>) -> Result<bool> {
        (**self).cancel_workflow_at(id, now).await
    }
    async fn retry_workflow_at(&self, id: WorkflowId, now: DateTime<Utc>) -> Result<u64> {
        (**self).retry_workflow_at(id, now).await
    }
    async fn expire_workflows(&self, now: DateTime<Utc>) -> Result<u64> {
        (**self).expire_workflows(now).await
    }
    async fn list_jobs(&self, params: ListJobsParams) -> Result<Vec<Job>> {
        (**self).list_jobs(params).await
    }
    async fn queue_counts(&self, queue: &str) -> Result<QueueCounts> {
        (**self).queue_counts(queue).await
    }
    async fn cancel_job_at(&self, id: JobId, now: DateTime<Utc>) -> Result<bool> {
        (**self).cancel_job_at(id, now).await
    }
    async fn list_recurrences(
        &self,
        cursor: RecurrenceCursor,
        limit: u32,
    ) -> Result<Vec<Recurrence>> {
        (**self).list_recurrences(cursor, limit).await
    }
    async fn advance_recurrence(
        &self,
        source: RecurrenceSource,
        next: Option<EnqueueBatch<'_>>,
    ) -> Result<bool> {
        (**self).advance_recurrence(source, next).await
    }
    async fn complete_and_spawn(
        &self,
        lease: Lease,
        result: Option<serde_json::Value>,
        spawn: &SpawnSet,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        (**self).complete_and_spawn(lease, result, spawn, now).await
    }
    async fn get_spawn_operation(&self, id: &str) -> Result<Option<SpawnOperation>> {
        (**self).get_spawn_operation(id).await
    }
    async fn try_lead(&self, role: &str, holder: &str, ttl: std::time::Duration) -> Result<bool> {
        (**self).try_lead(role, holder, ttl).await
    }
    async fn list_queues(&self) -> Result<Vec<String>> {
        (**self).list_queues().await
    }
    async fn pause_queue(&self, queue: &str) -> Result<bool> {
        (**self).pause_queue(queue).await
    }
    async fn resume_queue(&self, queue: &str) -> Result<bool> {
        (**self).resume_queue(queue).await
    }
    async fn paused_queues(&self) -> Result<Vec<String>> {
        (**self).paused_queues().await
    }
    async fn prune_at(
        &self,
        policy: &crate::retention::RetentionPolicy,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<crate::retention::Pruned> {
        (**self).prune_at(policy, now, limit).await
    }
    async fn prune(
        &self,
        policy: &crate::retention::RetentionPolicy,
    ) -> Result<crate::retention::Pruned> {
        (**self).prune(policy).await
    }
    async fn reclaim_space(&self) -> Result<bool> {
        (**self).reclaim_space().await
    }
    async fn resign(&self, role: &str, holder: &str) -> Result<()> {
        (**self).resign(role, holder).await
    }
    async fn list_spawn_operations(&self, query: SpawnQuery) -> Result<Vec<SpawnOperation>> {
        (**self).list_spawn_operations(query).await
    }
    async fn spawn_stats(&self, query: SpawnQuery) -> Result<SpawnStats> {
        (**self).spawn_stats(query).await
    }
    async fn get_descendants(&self, id: JobId, max_depth: u32) -> Result<Vec<Job>> {
        (**self).get_descendants(id, max_depth).await
    }
    async fn get_ancestors(&self, id: JobId) -> Result<Vec<Job>> {
        (**self).get_ancestors(id).await
    }
    async fn get_dependencies(&self, id: JobId) -> Result<Vec<Job>> {
        (**self).get_dependencies(id).await
    }
    async fn get_dependents(&self, id: JobId) -> Result<Vec<Job>> {
        (**self).get_dependents(id).await
    }
    async fn listen(&self) -> Result<Option<Box<dyn WakeupListener>>> {
        (**self).listen().await
    }
}

impl<S: StorageDatabase + ?Sized> StorageDatabase for Arc<S> {
    type Database = S::Database;
}
