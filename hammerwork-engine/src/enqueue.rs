//! The write path of every enqueue: jobs from users, spawned children, and
//! the next occurrence of a recurring series.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use hammerwork_api::driver::{Driver, Transaction, Transition};
use hammerwork_api::validate::distinct_queues;
use hammerwork_api::workflow::PlannedJob;
use hammerwork_api::workflow::{external_dependencies, plan_enqueue, validate_graph, StoredParent};
use hammerwork_api::{EnqueueBatch, Job, JobId, JobStatus, Result};

use crate::follow::Work;
use crate::retry::retry;

/// Writes `batch` (checked by `validate_batch` already) in `work`'s
/// transaction: locks the stored jobs
/// it depends on (ids sorted) so none can finish before the edges exist,
/// plans each job's initial state, writes the workflow row, the jobs and the
/// edges, wakes the queues that got a claimable job, and follows the jobs
/// that ended at once (a parent had failed or was skipped or cancelled, or a
/// condition was false).
///
/// `grafted`: every job of the batch is already a dependency of a stored job
/// (children a spawning parent awaits), so one that ends at once ends those
/// dependents too.
pub(crate) async fn write_batch<T: Transaction>(
    work: &mut Work<'_, T>,
    batch: EnqueueBatch<'_>,
    grafted: bool,
) -> Result<()> {
    let jobs = batch.jobs;
    let mut external = external_dependencies(jobs);
    external.sort_unstable();
    external.dedup();
    let mut stored: HashMap<JobId, StoredParent> = if external.is_empty() {
        HashMap::new()
    } else {
        work.tx
            .lock_stored_parents(&external)
            .await?
            .into_iter()
            .collect()
    };
    let awaited = awaited_children(work, jobs, &mut stored).await?;
    // Awaited children are planned and written as edges, while each job's
    // stored `depends_on` stays what its author declared.
    let declared = jobs;
    let extended = with_awaited(jobs, &awaited);
    let jobs: &[Job] = extended.as_deref().unwrap_or(jobs);
    validate_graph(jobs, |id| stored.contains_key(&id))?;
    let mut plans = plan_enqueue(jobs, &stored);
    if grafted {
        for plan in &mut plans {
            plan.has_dependents = true;
        }
    }
    if let Some(workflow) = batch.workflow {
        work.tx.insert_workflow(workflow, jobs.len() as i64).await?;
    }
    work.tx.insert_jobs(declared, &plans, work.now).await?;
    let edges: Vec<(JobId, JobId)> = jobs
        .iter()
        .flat_map(|job| job.depends_on.iter().map(|parent| (*parent, job.id)))
        .collect();
    if !edges.is_empty() {
        work.tx.insert_dependencies(&edges).await?;
    }
    let mut ended = Vec::new();
    for (job, plan) in jobs.iter().zip(&plans) {
        if plan.is_claimable() {
            work.wake(&job.queue_name);
        } else if plan.status.is_terminal() {
            // Dependents in the batch were planned ended already; stored
            // ones exist only for grafted children.
            ended.push(
                Transition::new(job.id, job.workflow_id, plan.status).with_dependents(grafted),
            );
        }
    }
    if !ended.is_empty() {
        work.follow(ended).await?;
    }
    Ok(())
}

/// The children that completed stored parents in `stored` had their
/// dependents await ([`SpawnConfig::with_await_children`]), by parent, and
/// theirs in turn, each child locked and added to `stored`: a parent whose
/// spawn is awaited is not done for a dependent until its children are,
/// whenever that dependent is enqueued. A parent only `jobs` of its own
/// spawn depend on is not looked at (its children are their siblings), so
/// writing a spawn's children reads nothing more.
///
/// [`SpawnConfig::with_await_children`]: hammerwork_api::spawn::SpawnConfig::with_await_children
async fn awaited_children<T: Transaction>(
    work: &mut Work<'_, T>,
    jobs: &[Job],
    stored: &mut HashMap<JobId, StoredParent>,
) -> Result<HashMap<JobId, Vec<JobId>>> {
    let waited_on: HashSet<JobId> = jobs
        .iter()
        .flat_map(|job| {
            let spawner = job.parent_job_id;
            job.depends_on.iter().filter(move |p| Some(**p) != spawner)
        })
        .copied()
        .collect();
    let mut awaited: HashMap<JobId, Vec<JobId>> = HashMap::new();
    let mut frontier = completed(stored.iter().filter(|(id, _)| waited_on.contains(id)));
    while !frontier.is_empty() {
        let pairs = work.tx.awaited_children(&frontier).await?;
        let mut new: Vec<JobId> = pairs
            .iter()
            .map(|(_, child)| *child)
            .filter(|child| !stored.contains_key(child))
            .collect();
        new.sort_unstable();
        new.dedup();
        for (parent, child) in pairs {
            awaited.entry(parent).or_default().push(child);
        }
        let locked = if new.is_empty() {
            Vec::new()
        } else {
            work.tx.lock_stored_parents(&new).await?
        };
        frontier = completed(locked.iter().map(|(id, p)| (id, p)));
        stored.extend(locked);
    }
    Ok(awaited)
}

/// The ids of the `parents` that completed, sorted.
fn completed<'a>(parents: impl Iterator<Item = (&'a JobId, &'a StoredParent)>) -> Vec<JobId> {
    let mut ids: Vec<JobId> = parents
        .filter(|(_, p)| p.status == JobStatus::Completed)
        .map(|(id, _)| *id)
        .collect();
    ids.sort_unstable();
    ids
}

/// `jobs` with the children their parents' dependents await added to their
/// dependencies (transitively), or `None` when no job gets any. A parent's
/// own children do not wait for each other.
fn with_awaited(jobs: &[Job], awaited: &HashMap<JobId, Vec<JobId>>) -> Option<Vec<Job>> {
    if awaited.is_empty() {
        return None;
    }
    let extra: Vec<Vec<JobId>> = jobs
        .iter()
        .map(|job| {
            let mut stack: Vec<JobId> = job
                .depends_on
                .iter()
                .filter(|parent| job.parent_job_id != Some(**parent))
                .copied()
                .collect();
            let mut seen: HashSet<JobId> = job.depends_on.iter().copied().collect();
            let mut extra = Vec::new();
            while let Some(parent) = stack.pop() {
                for child in awaited.get(&parent).into_iter().flatten() {
                    if *child != job.id && seen.insert(*child) {
                        extra.push(*child);
                        stack.push(*child);
                    }
                }
            }
            extra
        })
        .collect();
    if extra.iter().all(Vec::is_empty) {
        return None;
    }
    Some(
        jobs.iter()
            .zip(extra)
            .map(|(job, extra)| {
                let mut job = job.clone();
                job.depends_on.extend(extra);
                job
            })
            .collect(),
    )
}

/// Writes jobs that depend on nothing and form no workflow, as `plans`
/// (every one pending and claimable) plan them, and wakes their queues.
async fn write_independent<T: Transaction>(
    work: &mut Work<'_, T>,
    jobs: &[Job],
    plans: &[PlannedJob],
) -> Result<()> {
    work.tx.insert_jobs(jobs, plans, work.now).await?;
    for queue in distinct_queues(jobs) {
        work.wake(&queue);
    }
    Ok(())
}

/// Writes jobs that depend on nothing and form no workflow (checked and
/// planned): the driver's one-statement path when it has one, else a
/// transaction; retried whole on transient conflicts.
pub(crate) async fn write_independent_jobs<D: Driver>(
    driver: &D,
    jobs: &[Job],
    plans: &[PlannedJob],
) -> Result<()> {
    debug_assert_eq!(jobs.len(), plans.len(), "one plan per job");
    if retry("enqueue", || driver.enqueue_independent(jobs, plans)).await? {
        return Ok(());
    }
    let now = Utc::now();
    retry("enqueue", || async {
        let mut tx = driver.begin().await?;
        let mut work = Work::new(&mut tx, now);
        write_independent(&mut work, jobs, plans).await?;
        work.finish().await?;
        tx.commit().await
    })
    .await
}
