//! The write path of every enqueue: jobs from users, spawned children, and
//! the next occurrence of a recurring series.

use std::collections::HashMap;

use hammerwork_api::driver::{Transaction, Transition};
use hammerwork_api::validate::distinct_queues;
use hammerwork_api::workflow::PlannedJob;
use hammerwork_api::workflow::{external_dependencies, plan_enqueue, validate_graph, StoredParent};
use hammerwork_api::{EnqueueBatch, Job, JobId, Result};

use crate::follow::Work;

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
    let stored: HashMap<JobId, StoredParent> = if external.is_empty() {
        HashMap::new()
    } else {
        work.tx
            .lock_stored_parents(&external)
            .await?
            .into_iter()
            .collect()
    };
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
    work.tx.insert_jobs(jobs, &plans, work.now).await?;
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

/// Writes jobs that depend on nothing and form no workflow, as `plans`
/// (every one pending and claimable) plan them, and wakes their queues.
pub(crate) async fn write_independent<T: Transaction>(
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
