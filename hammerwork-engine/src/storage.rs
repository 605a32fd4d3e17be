//! [`Storage`] over any driver: each operation one transaction of primitives.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hammerwork_api::driver::{Driver, Transaction};
use hammerwork_api::limits::truncate_message;
use hammerwork_api::retention::{Pruned, RetentionPolicy};
use hammerwork_api::schedule::{Recurrence, RecurrenceCursor, RecurrenceSource};
use hammerwork_api::spawn::{
    check_awaiting_cycle, SpawnError, SpawnOperation, SpawnQuery, SpawnSet, SpawnStats,
};
use hammerwork_api::validate::{check_result, queue_name_problem, validate_batch};
use hammerwork_api::workflow::{plan_enqueue, Workflow};
use hammerwork_api::{
    Capabilities, ClaimParams, EnqueueBatch, Error, Job, JobId, JobStatus, Lease, Limits,
    ListJobsParams, ListWorkflowsParams, Outcome, QueueCounts, Result, Settlement, Storage,
    WakeupListener, WorkflowId,
};
use serde_json::Value;

use crate::enqueue::{write_batch, write_independent_jobs};
use crate::follow::Work;
use crate::retry::retry;
use crate::Engine;

/// A queue name enqueue refuses, so no job has it: a read filtered by it
/// finds nothing without asking the database, which may refuse the text
/// (PostgreSQL and NUL).
fn unstorable(queue: &str) -> bool {
    queue_name_problem(queue).is_some()
}

/// The final statuses whose jobs are pruned, in the order a pass takes them.
const PRUNED_STATUSES: [JobStatus; 4] = [
    JobStatus::Completed,
    JobStatus::Skipped,
    JobStatus::Cancelled,
    JobStatus::Dead,
];

/// Finished workflows one pruning transaction deletes at most (each with all
/// its jobs, which may be many).
const WORKFLOW_PRUNE_BATCH: u32 = 50;

/// The time before which what is kept for `keep` ended can go at `now`;
/// `None` when it is kept for ever (or for longer than can be subtracted
/// from now).
fn ended_before(now: DateTime<Utc>, keep: Option<std::time::Duration>) -> Option<DateTime<Utc>> {
    let keep = chrono::Duration::from_std(keep?).ok()?;
    now.checked_sub_signed(keep)
}

/// Running jobs whose lease expired that one rescue transaction takes
/// (`rescue_expired_jobs` runs as many as it needs).
const RESCUE_LIMIT: u32 = 1_000;

/// `items` sorted by `key`, borrowed when they already are (the common case).
fn sorted_by<T: Clone, K: Ord>(items: &[T], key: impl Fn(&T) -> K) -> Cow<'_, [T]> {
    if items.windows(2).all(|w| key(&w[0]) <= key(&w[1])) {
        Cow::Borrowed(items)
    } else {
        let mut owned = items.to_vec();
        owned.sort_by_key(key);
        Cow::Owned(owned)
    }
}

/// Which of two outcomes for one attempt stands: the handler's own result
/// over a give-back (a worker that stops after its handler finished sends
/// both), a completion over a failure over a cancellation.
fn precedence(outcome: &Outcome) -> u8 {
    match outcome {
        Outcome::Completed { .. } => 0,
        Outcome::Failed { .. } => 1,
        Outcome::Cancelled { .. } => 2,
        _ => 3,
    }
}

/// `settlements` within `limits`: a result too large to store fails its
/// attempt for good (the same handler would return it again), an error or
/// cancel reason too long is cut. Borrowed when all fit (the common case);
/// each outcome is measured once.
fn within_limits<'a>(settlements: &'a [Settlement], limits: &Limits) -> Cow<'a, [Settlement]> {
    let fitted = |s: &Settlement| -> Option<Outcome> {
        match &s.outcome {
            Outcome::Completed { result } => check_result(s.lease.id, result.as_ref(), limits)
                .err()
                .map(|error| Outcome::Failed {
                    error: error.to_string(),
                    retry_at: None,
                }),
            Outcome::Failed { error, retry_at } => {
                match truncate_message(error, limits.max_error_bytes) {
                    Cow::Owned(error) => Some(Outcome::Failed {
                        error,
                        retry_at: *retry_at,
                    }),
                    Cow::Borrowed(_) => None,
                }
            }
            Outcome::Cancelled { reason } => match truncate_message(reason, limits.max_error_bytes)
            {
                Cow::Owned(reason) => Some(Outcome::Cancelled { reason }),
                Cow::Borrowed(_) => None,
            },
            _ => None,
        }
    };
    let mut owned: Option<Vec<Settlement>> = None;
    for (i, settlement) in settlements.iter().enumerate() {
        match (fitted(settlement), &mut owned) {
            (Some(outcome), owned) => {
                let mut fitted = settlement.clone();
                fitted.outcome = outcome;
                owned
                    .get_or_insert_with(|| settlements[..i].to_vec())
                    .push(fitted)
            }
            (None, Some(owned)) => owned.push(settlement.clone()),
            (None, None) => {}
        }
    }
    owned.map_or(Cow::Borrowed(settlements), Cow::Owned)
}

/// Settlements in lease order (the order rows are locked), one per attempt.
fn one_per_attempt(settlements: &[Settlement]) -> Cow<'_, [Settlement]> {
    let key = |s: &Settlement| (s.lease.id, s.lease.claim, precedence(&s.outcome));
    let mut settlements = sorted_by(settlements, key);
    if settlements.windows(2).any(|w| w[0].lease == w[1].lease) {
        settlements
            .to_mut()
            .dedup_by(|later, first| later.lease == first.lease);
    }
    settlements
}

/// Refuses children that depend on a stored job downstream of a stage they
/// are grafted onto (`held`): that job waits for the stage, which would wait
/// for the child, which waits for that job. Walks the stage's dependents
/// level by level (one read each), only when some child depends on a stored
/// job other than `parent`. [`Error::Cycle`] names the loop in dependency
/// order.
async fn refuse_downstream_cycle<T: Transaction>(
    tx: &mut T,
    parent: JobId,
    children: &[Job],
    held: &[JobId],
) -> Result<()> {
    let own: HashSet<JobId> = children.iter().map(|c| c.id).collect();
    // A stored job a child depends on -> that child.
    let mut targets: HashMap<JobId, JobId> = HashMap::new();
    for child in children {
        for dependency in &child.depends_on {
            if *dependency != parent && !own.contains(dependency) {
                targets.entry(*dependency).or_insert(child.id);
            }
        }
    }
    if targets.is_empty() || held.is_empty() {
        return Ok(());
    }
    // Each job reached -> the job it was reached from.
    let mut reached_from: HashMap<JobId, JobId> = HashMap::new();
    let mut seen: HashSet<JobId> = held.iter().copied().collect();
    let mut frontier = held.to_vec();
    while !frontier.is_empty() {
        frontier.sort_unstable();
        let edges = tx.dependents(&frontier).await?;
        frontier.clear();
        for (from, to) in edges {
            if !seen.insert(to) {
                continue;
            }
            reached_from.insert(to, from);
            if let Some(child) = targets.get(&to) {
                // Back from `to` to the stage it was reached from.
                let mut back = vec![to];
                let mut at = to;
                while let Some(previous) = reached_from.get(&at) {
                    back.push(*previous);
                    at = *previous;
                }
                let mut path = vec![at, *child];
                path.extend(back);
                return Err(Error::Cycle { path });
            }
            frontier.push(to);
        }
    }
    Ok(())
}

impl<D: Driver> Engine<D> {
    async fn enqueue_once(&self, batch: EnqueueBatch<'_>, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.driver.begin().await?;
        let mut work = Work::new(&mut tx, now);
        write_batch(&mut work, batch, false).await?;
        work.finish().await?;
        tx.commit().await
    }

    async fn settle_once(&self, settlements: &[Settlement], now: DateTime<Utc>) -> Result<u64> {
        let mut tx = self.driver.begin().await?;
        let mut work = Work::new(&mut tx, now);
        let transitions = work.tx.settle_attempts(settlements, now).await?;
        let changed = transitions.len() as u64;
        work.follow(transitions).await?;
        work.finish().await?;
        tx.commit().await?;
        Ok(changed)
    }

    async fn rescue_once(&self, now: DateTime<Utc>) -> Result<u64> {
        let mut tx = self.driver.begin().await?;
        let mut work = Work::new(&mut tx, now);
        let transitions = work.tx.rescue_expired_jobs(now, RESCUE_LIMIT).await?;
        let rescued = transitions.len() as u64;
        work.follow(transitions).await?;
        work.finish().await?;
        tx.commit().await?;
        Ok(rescued)
    }

    /// One run of `complete_and_spawn`; `completed` is the parent's outcome.
    async fn complete_and_spawn_once(
        &self,
        completed: &[Settlement],
        spawn: &SpawnSet,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let lease = completed[0].lease;
        let mut tx = self.driver.begin().await?;
        let mut work = Work::new(&mut tx, now);
        let mut grafted = false;
        if spawn.await_children && !spawn.children.is_empty() {
            // Hold the parent's dependents before its completion releases them.
            if !work.tx.lock_running_attempt(lease).await? {
                return Ok(false);
            }
            let children: Vec<JobId> = spawn.children.iter().map(|c| c.id).collect();
            let held = work.tx.graft_children(lease.id, &children).await?;
            check_awaiting_cycle(&spawn.children, &held)?;
            refuse_downstream_cycle(work.tx, lease.id, &spawn.children, &held).await?;
            grafted = !held.is_empty();
        }
        let transitions = work.tx.settle_attempts(completed, now).await?;
        if transitions.is_empty() {
            // No longer the current attempt: nothing was written.
            return Ok(false);
        }
        work.follow(transitions).await?;
        if !work.tx.insert_spawn_operation(&spawn.operation).await? {
            return Err(Error::Spawn(SpawnError::DuplicateOperation {
                id: spawn.operation.id.clone(),
            }));
        }
        // Validated as a whole by complete_and_spawn.
        for chunk in spawn.children.chunks(spawn.batch_size.max(1)) {
            write_batch(&mut work, EnqueueBatch::jobs(chunk), grafted).await?;
        }
        work.finish().await?;
        tx.commit().await?;
        Ok(true)
    }

    /// One transaction of [`Storage::prune_at`]: the prunable jobs of each
    /// queue and final status in turn (each range locked, skipping locked
    /// rows, so pruning never waits for a worker), then one delete of them
    /// all.
    async fn prune_once(
        &self,
        policy: &RetentionPolicy,
        queues: &[String],
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Pruned> {
        let mut tx = self.driver.begin().await?;
        let mut ids: Vec<JobId> = Vec::new();
        'queues: for queue in queues {
            let retention = policy.for_queue(queue);
            for status in PRUNED_STATUSES {
                let remaining = limit.saturating_sub(ids.len() as u32);
                if remaining == 0 {
                    break 'queues;
                }
                let Some(ended_before) = ended_before(now, retention.of(status)) else {
                    continue;
                };
                let found = tx.prunable_jobs(queue, status, ended_before, remaining);
                ids.extend(found.await?);
            }
        }
        let mut workflows = Vec::new();
        let remaining = limit.saturating_sub(ids.len() as u32);
        if let (Some(ended_before), true) = (ended_before(now, policy.workflows), remaining > 0) {
            let batch = remaining.min(WORKFLOW_PRUNE_BATCH);
            workflows = tx.prunable_workflows(ended_before, batch).await?;
        }
        if ids.is_empty() && workflows.is_empty() {
            tx.rollback().await?;
            return Ok(Pruned::default());
        }
        ids.sort();
        workflows.sort();
        let mut pruned = Pruned::default();
        if !ids.is_empty() {
            pruned += tx.delete_jobs(&ids).await?;
        }
        if !workflows.is_empty() {
            pruned += tx.delete_workflows(&workflows).await?;
        }
        tx.commit().await?;
        Ok(pruned)
    }

    async fn cancel_job_once(&self, id: JobId, now: DateTime<Utc>) -> Result<bool> {
        let mut tx = self.driver.begin().await?;
        let mut work = Work::new(&mut tx, now);
        let Some(cancelled) = work.tx.cancel_job(id, now).await? else {
            return Ok(false);
        };
        work.follow(vec![cancelled]).await?;
        work.finish().await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn cancel_workflow_once(&self, id: WorkflowId, now: DateTime<Utc>) -> Result<bool> {
        let mut tx = self.driver.begin().await?;
        let mut work = Work::new(&mut tx, now);
        if !work.tx.cancel_workflow(id).await? {
            return Ok(false);
        }
        work.cancel_unfinished(&[id], "cancelled with its workflow")
            .await?;
        work.finish().await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn retry_workflow_once(&self, id: WorkflowId, now: DateTime<Utc>) -> Result<u64> {
        let mut tx = self.driver.begin().await?;
        let mut work = Work::new(&mut tx, now);
        if !work.tx.reopen_workflow(id).await? {
            return Err(Error::WorkflowNotFound { id });
        }
        let reset = work.tx.reset_workflow_jobs(id, now).await?;
        for job in &reset {
            work.count(job.workflow_id, job.previous, -1);
            work.wake(&job.queue_name);
        }
        let reset_ids: Vec<JobId> = reset.iter().map(|job| job.id).collect();
        let recounted = work.tx.recount_dependencies(id, &reset_ids).await?;
        work.follow_recount(recounted).await?;
        work.finish().await?;
        tx.commit().await?;
        Ok(reset.len() as u64)
    }

    async fn retry_job_once(&self, id: JobId, now: DateTime<Utc>) -> Result<bool> {
        let mut tx = self.driver.begin().await?;
        let Some(job) = tx.reset_job(id, now).await? else {
            tx.rollback().await?;
            return Ok(false);
        };
        let mut work = Work::new(&mut tx, now);
        work.wake(&job.queue_name);
        work.finish().await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn expire_workflows_once(&self, now: DateTime<Utc>) -> Result<u64> {
        let mut tx = self.driver.begin().await?;
        let mut work = Work::new(&mut tx, now);
        let expired = work.tx.fail_expired_workflows(now).await?;
        if !expired.is_empty() {
            work.cancel_unfinished(&expired, "cancelled: the workflow timed out")
                .await?;
        }
        work.finish().await?;
        tx.commit().await?;
        Ok(expired.len() as u64)
    }

    async fn advance_once(
        &self,
        source: RecurrenceSource,
        next: Option<EnqueueBatch<'_>>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let mut tx = self.driver.begin().await?;
        let mut work = Work::new(&mut tx, now);
        let marked = match source {
            RecurrenceSource::Job(id) => {
                let next = next.and_then(|b| b.jobs.first()).map(|job| job.id);
                work.tx.mark_job_recurrence(id, next).await?
            }
            RecurrenceSource::Workflow(id) => {
                let next = next.and_then(|b| b.workflow).map(|w| w.id);
                work.tx.mark_workflow_recurrence(id, next).await?
            }
        };
        if !marked {
            return Ok(false);
        }
        if let Some(batch) = next {
            write_batch(&mut work, batch, false).await?;
        }
        work.finish().await?;
        tx.commit().await?;
        Ok(true)
    }
}

#[async_trait]
impl<D: Driver> Storage for Engine<D> {
    fn capabilities(&self) -> Capabilities {
        self.driver.capabilities()
    }

    fn limits(&self) -> Limits {
        self.limits
    }

    async fn database_time(&self) -> Result<DateTime<Utc>> {
        retry("read the database's time", || self.driver.database_time()).await
    }

    async fn enqueue_jobs(&self, batch: EnqueueBatch<'_>) -> Result<Vec<JobId>> {
        let jobs = batch.jobs;
        let ids: Vec<JobId> = jobs.iter().map(|job| job.id).collect();
        validate_batch(&batch, &self.limits)?;
        let independent =
            batch.workflow.is_none() && jobs.iter().all(|job| job.depends_on.is_empty());
        if independent {
            if jobs.is_empty() {
                return Ok(ids);
            }
            let plans = plan_enqueue(jobs, &HashMap::new());
            match (jobs, plans.as_slice()) {
                ([job], [plan]) => {
                    let (job, plan) = (job.clone(), plan.clone());
                    let driver = &self.driver;
                    self.coalescer
                        .enqueue(driver, &self.limits, job, plan)
                        .await?;
                }
                _ => write_independent_jobs(&*self.driver, jobs, &plans).await?,
            }
            return Ok(ids);
        }
        let now = Utc::now();
        retry("enqueue", || self.enqueue_once(batch, now)).await?;
        Ok(ids)
    }

    async fn next_due(&self, queue: &str, after: DateTime<Utc>) -> Result<Option<DateTime<Utc>>> {
        if unstorable(queue) {
            return Ok(None);
        }
        self.driver.next_due(queue, after).await
    }

    async fn claim_jobs(&self, params: ClaimParams) -> Result<Vec<Job>> {
        if params.limit == 0 || unstorable(&params.queue) {
            return Ok(Vec::new());
        }
        let claimed = retry("claim", || self.driver.claim_jobs(&params)).await?;
        if claimed.iter().all(|job| job.rejection().is_none()) {
            return Ok(claimed);
        }
        // A row that could not be read ends alone, dead with the reason, and
        // its batch-mates run (running it without, say, its retry policy
        // would be guessing).
        let (unreadable, jobs): (Vec<Job>, Vec<Job>) = claimed
            .into_iter()
            .partition(|job| job.rejection().is_some());
        let ends: Vec<Settlement> = unreadable
            .iter()
            .map(|job| {
                let error = job.rejection().unwrap_or_default().to_string();
                tracing::error!(job_id = %job.id, queue = %params.queue, "{error}");
                let outcome = Outcome::Failed {
                    error,
                    retry_at: None,
                };
                Settlement::new(Lease::of(job), outcome)
            })
            .collect();
        // The good claims are committed: return them whatever happens
        // here (an unsettled bad row is rescued when its lease ends, and
        // ended then by the claim that reads it next).
        if let Err(error) = self.settle_jobs(&ends, params.now).await {
            tracing::warn!(error = %error, "ending unreadable jobs failed");
        }
        Ok(jobs)
    }

    async fn settle_jobs(&self, settlements: &[Settlement], now: DateTime<Utc>) -> Result<u64> {
        if settlements.is_empty() {
            return Ok(0);
        }
        let settlements = within_limits(settlements, &self.limits);
        let settlements = one_per_attempt(&settlements);
        // Outcomes the shortcut applied are no longer the running claim, so
        // the transaction after it changes nothing for them. Those of
        // workflows' jobs are not offered to it: it would apply none.
        let candidates: Cow<[Settlement]> = if settlements.iter().any(|s| s.in_workflow) {
            Cow::Owned(
                settlements
                    .iter()
                    .filter(|s| !s.in_workflow)
                    .cloned()
                    .collect(),
            )
        } else {
            Cow::Borrowed(&settlements)
        };
        let fast = if candidates.is_empty() {
            0
        } else {
            retry("settle", || {
                self.driver.settle_independent(&candidates, now)
            })
            .await?
        };
        if fast == settlements.len() as u64 {
            return Ok(fast);
        }
        let slow = retry("settle", || self.settle_once(&settlements, now)).await?;
        Ok(fast + slow)
    }

    async fn heartbeat_jobs(&self, leases: &[Lease], lease_until: DateTime<Utc>) -> Result<u64> {
        if leases.is_empty() {
            return Ok(0);
        }
        let leases = sorted_by(leases, |l| l.id);
        retry("heartbeat", || {
            self.driver.heartbeat_jobs(&leases, lease_until)
        })
        .await
    }

    async fn rescue_expired_jobs(&self, now: DateTime<Utc>) -> Result<u64> {
        // A transaction per batch, until one comes back short: every lease
        // that ended before `now` (a crashed worker's claim may hold
        // thousands), never more than that, so this ends.
        let mut rescued = 0;
        loop {
            let batch = retry("rescue", || self.rescue_once(now)).await?;
            rescued += batch;
            if batch < u64::from(RESCUE_LIMIT) {
                return Ok(rescued);
            }
        }
    }

    async fn get_job(&self, id: JobId) -> Result<Option<Job>> {
        self.driver.get_job(id).await
    }

    async fn get_jobs(&self, ids: &[JobId]) -> Result<Vec<Job>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.driver.get_jobs(ids).await
    }

    async fn list_jobs(&self, params: ListJobsParams) -> Result<Vec<Job>> {
        if params.queue.as_deref().is_some_and(unstorable) {
            return Ok(Vec::new());
        }
        self.driver.list_jobs(&params).await
    }

    async fn queue_counts(&self, queue: &str) -> Result<QueueCounts> {
        if unstorable(queue) {
            return Ok(QueueCounts::default());
        }
        self.driver.queue_counts(queue).await
    }

    async fn cancel_job_at(&self, id: JobId, now: DateTime<Utc>) -> Result<bool> {
        if retry("cancel job", || self.cancel_job_once(id, now)).await? {
            return Ok(true);
        }
        match self.driver.get_job(id).await? {
            Some(_) => Ok(false),
            None => Err(Error::NotFound { id }),
        }
    }

    async fn get_workflow(&self, id: WorkflowId) -> Result<Option<Workflow>> {
        self.driver.get_workflow(id).await
    }

    async fn list_workflows(&self, params: ListWorkflowsParams) -> Result<Vec<Workflow>> {
        self.driver.list_workflows(&params).await
    }

    async fn cancel_workflow_at(&self, id: WorkflowId, now: DateTime<Utc>) -> Result<bool> {
        if retry("cancel workflow", || self.cancel_workflow_once(id, now)).await? {
            return Ok(true);
        }
        match self.driver.get_workflow(id).await? {
            Some(_) => Ok(false),
            None => Err(Error::WorkflowNotFound { id }),
        }
    }

    async fn retry_job_at(&self, id: JobId, now: DateTime<Utc>) -> Result<()> {
        if retry("retry job", || self.retry_job_once(id, now)).await? {
            return Ok(());
        }
        let job = self
            .driver
            .get_job(id)
            .await?
            .ok_or(Error::NotFound { id })?;
        let why = if !matches!(job.status, JobStatus::Dead | JobStatus::Cancelled) {
            format!(
                "job {id} is {}: only a dead or cancelled job can be retried",
                job.status
            )
        } else if let Some(workflow) = job.workflow_id {
            format!("job {id} belongs to workflow {workflow}: retry the workflow, which recounts its dependents")
        } else {
            format!("job {id} depends on a job that did not complete")
        };
        Err(Error::NotApplicable(why))
    }

    async fn retry_workflow_at(&self, id: WorkflowId, now: DateTime<Utc>) -> Result<u64> {
        retry("retry workflow", || self.retry_workflow_once(id, now)).await
    }

    async fn expire_workflows(&self, now: DateTime<Utc>) -> Result<u64> {
        retry("expire workflows", || self.expire_workflows_once(now)).await
    }

    async fn list_recurrences(
        &self,
        cursor: RecurrenceCursor,
        limit: u32,
    ) -> Result<Vec<Recurrence>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        // Up to `limit` of each kind: jobs that cannot move yet (waiting for
        // a recurring parent) must not keep workflows from being listed.
        let jobs = self.driver.list_recurring_jobs(cursor.after_job, limit);
        let jobs = jobs.await?;
        let workflows = self
            .driver
            .list_recurring_workflows(cursor.after_workflow, limit);
        let workflows = workflows.await?;
        let jobs = jobs.into_iter().map(Recurrence::Job);
        Ok(jobs
            .chain(workflows.into_iter().map(Recurrence::Workflow))
            .collect())
    }

    async fn advance_recurrence(
        &self,
        source: RecurrenceSource,
        next: Option<EnqueueBatch<'_>>,
    ) -> Result<bool> {
        if let Some(batch) = &next {
            validate_batch(batch, &self.limits)?;
        }
        let now = Utc::now();
        retry("advance recurrence", || {
            self.advance_once(source, next, now)
        })
        .await
    }

    async fn complete_and_spawn(
        &self,
        lease: Lease,
        result: Option<Value>,
        spawn: &SpawnSet,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        // Refused before anything is written: the caller fails the attempt.
        // The children are checked as one batch (each, their ids, their
        // sizes together), however many chunks they are written in.
        check_result(lease.id, result.as_ref(), &self.limits)?;
        validate_batch(&EnqueueBatch::jobs(&spawn.children), &self.limits)?;
        let completed = [Settlement::new(lease, Outcome::Completed { result })];
        retry("complete and spawn", || {
            self.complete_and_spawn_once(&completed, spawn, now)
        })
        .await
    }

    async fn get_spawn_operation(&self, id: &str) -> Result<Option<SpawnOperation>> {
        self.driver.get_spawn_operation(id).await
    }

    async fn list_spawn_operations(&self, query: SpawnQuery) -> Result<Vec<SpawnOperation>> {
        if query.queue.as_deref().is_some_and(unstorable) {
            return Ok(Vec::new());
        }
        self.driver.list_spawn_operations(&query).await
    }

    async fn spawn_stats(&self, query: SpawnQuery) -> Result<SpawnStats> {
        if query.queue.as_deref().is_some_and(unstorable) {
            return Ok(SpawnStats::new(0, 0, 0));
        }
        self.driver.spawn_stats(&query).await
    }

    async fn get_descendants(&self, id: JobId, max_depth: u32) -> Result<Vec<Job>> {
        if max_depth == 0 {
            return Ok(Vec::new());
        }
        self.driver.get_descendants(id, max_depth).await
    }

    async fn get_ancestors(&self, id: JobId) -> Result<Vec<Job>> {
        self.driver.get_ancestors(id).await
    }

    async fn get_dependencies(&self, id: JobId) -> Result<Vec<Job>> {
        self.driver.get_dependencies(id).await
    }

    async fn get_dependents(&self, id: JobId) -> Result<Vec<Job>> {
        let mut tx = self.driver.begin().await?;
        let edges = tx.dependents(&[id]).await?;
        tx.rollback().await?;
        let mut ids: Vec<JobId> = edges.into_iter().map(|(_, job)| job).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut jobs = self.driver.get_jobs(&ids).await?;
        jobs.sort_unstable_by_key(|job| job.id);
        Ok(jobs)
    }

    async fn try_lead(&self, role: &str, holder: &str, ttl: std::time::Duration) -> Result<bool> {
        retry("take the lead", || self.driver.try_lead(role, holder, ttl)).await
    }

    async fn list_queues(&self) -> Result<Vec<String>> {
        self.driver.list_queues().await
    }

    async fn pause_queue(&self, queue: &str) -> Result<bool> {
        if let Some(problem) = queue_name_problem(queue) {
            return Err(Error::Config(problem));
        }
        retry("pause queue", || async {
            let mut tx = self.driver.begin().await?;
            let paused = tx.pause_queue(queue, Utc::now()).await?;
            tx.commit().await?;
            Ok(paused)
        })
        .await
    }

    async fn resume_queue(&self, queue: &str) -> Result<bool> {
        if let Some(problem) = queue_name_problem(queue) {
            return Err(Error::Config(problem));
        }
        retry("resume queue", || async {
            let mut tx = self.driver.begin().await?;
            let resumed = tx.resume_queue(queue).await?;
            if resumed {
                // Idle workers of the queue claim at once, not at their next poll.
                tx.wake(&[queue.to_string()]).await?;
            }
            tx.commit().await?;
            Ok(resumed)
        })
        .await
    }

    async fn paused_queues(&self) -> Result<Vec<String>> {
        self.driver.paused_queues().await
    }

    async fn prune_at(
        &self,
        policy: &RetentionPolicy,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Pruned> {
        let queues = self.driver.list_queues().await?;
        retry("prune", || self.prune_once(policy, &queues, now, limit)).await
    }

    /// Once 50,000 plus a tenth of the live rows more dead versions than
    /// the last reclaim left have piled up, unless the connection may not,
    /// one is running, or one ended in the last 2 s (so versions that a long
    /// transaction holds back are not reclaimed again every second).
    async fn reclaim_space(&self) -> Result<bool> {
        let Some(stats) = self.driver.dead_rows().await? else {
            return Ok(false);
        };
        // Fewer dead now than the last reclaim left: others reclaimed since.
        let left = self
            .dead_after_reclaim
            .fetch_min(stats.dead, Ordering::Relaxed);
        let piled_up = stats.dead - left.min(stats.dead);
        if !stats.allowed || stats.running || stats.recent || piled_up < 50_000 + stats.live / 10 {
            return Ok(false);
        }
        self.driver.reclaim_space().await?;
        let left = self.driver.dead_rows().await?.map_or(0, |after| after.dead);
        self.dead_after_reclaim.store(left, Ordering::Relaxed);
        Ok(true)
    }

    async fn resign(&self, role: &str, holder: &str) -> Result<()> {
        retry("resign", || self.driver.resign(role, holder)).await
    }

    async fn listen(&self) -> Result<Option<Box<dyn WakeupListener>>> {
        self.driver.listen().await
    }
}
