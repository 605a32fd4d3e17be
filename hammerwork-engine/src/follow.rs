//! One transaction's work: the follow-up of every job that ends, to a
//! fixpoint, and the workflow counters and wakeups it collects on the way.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use hammerwork_api::driver::{Released, Transaction, Transition, WorkflowCounts};
use hammerwork_api::workflow::{condition_holds, killed_in_other_workflows, plan_failures};
use hammerwork_api::{JobId, JobStatus, Result, WorkflowId, WorkflowStatus};
use serde_json::Value;

/// A transaction in progress: its primitives, its clock, and what it will
/// write to the workflow rows and wake before it commits.
pub(crate) struct Work<'t, T> {
    pub(crate) tx: &'t mut T,
    /// The operation's clock: every transition is stamped with it.
    pub(crate) now: DateTime<Utc>,
    /// Counter changes by workflow, in id order (the order rows are locked).
    counts: BTreeMap<WorkflowId, WorkflowCounts>,
    wake: BTreeSet<String>,
}

impl<'t, T: Transaction> Work<'t, T> {
    pub(crate) fn new(tx: &'t mut T, now: DateTime<Utc>) -> Self {
        Work {
            tx,
            now,
            counts: BTreeMap::new(),
            wake: BTreeSet::new(),
        }
    }

    /// Counts `delta` jobs of `workflow` into `status`'s counter.
    pub(crate) fn count(&mut self, workflow: Option<WorkflowId>, status: JobStatus, delta: i64) {
        if let Some(id) = workflow {
            self.counts
                .entry(id)
                .or_insert_with(|| WorkflowCounts::new(id))
                .add(status, delta);
        }
    }

    fn count_all(&mut self, transitions: &[Transition]) {
        for t in transitions {
            self.count(t.workflow_id, t.status, 1);
        }
    }

    /// Wakes `queue`'s listeners once the transaction commits.
    pub(crate) fn wake(&mut self, queue: &str) {
        if !self.wake.contains(queue) {
            self.wake.insert(queue.to_string());
        }
    }

    /// Writes the collected counters (workflow rows in id order), stamps the
    /// workflows they finished, and asks for the wakeups. The caller commits
    /// next.
    pub(crate) async fn finish(self) -> Result<()> {
        let counts: Vec<WorkflowCounts> = self
            .counts
            .into_values()
            .filter(|c| !c.is_empty())
            .collect();
        let queues: Vec<String> = self.wake.into_iter().collect();
        if counts.is_empty() && queues.is_empty() {
            return Ok(());
        }
        self.tx.finish(&counts, &queues, self.now).await
    }

    /// Counts `transitions` and moves on whatever waits on them: the
    /// dependents of completed jobs are counted off (released, or skipped by
    /// their condition), a dead job applies its workflow's failure policy,
    /// and skipped and cancelled jobs end their unstarted dependents alike.
    pub(crate) async fn follow(&mut self, transitions: Vec<Transition>) -> Result<()> {
        self.count_all(&transitions);
        let mut completed = Vec::new();
        let mut dead = Vec::new();
        let mut skipped = Vec::new();
        let mut cancelled = Vec::new();
        for t in transitions {
            let followed = t.may_have_dependents;
            match t.status {
                JobStatus::Completed if followed => completed.push(t.id),
                // A dead job of a workflow applies its policy even when
                // nothing depends on it (FailFast, Manual).
                JobStatus::Dead if followed || t.workflow_id.is_some() => {
                    dead.push((t.id, t.workflow_id))
                }
                JobStatus::Skipped if followed => skipped.push(t.id),
                JobStatus::Cancelled if followed => cancelled.push(t.id),
                _ => {}
            }
        }
        if !completed.is_empty() {
            completed.sort_unstable();
            skipped.extend(self.release(&completed).await?);
        }
        self.end_dependents_of(skipped, dead, cancelled).await
    }

    /// Counts completed `parents` off their waiting dependents; a dependent
    /// at zero runs (its queue woken) or, when it has a condition, has it
    /// evaluated against its parents' results. Returns the ones skipped.
    async fn release(&mut self, parents: &[JobId]) -> Result<Vec<JobId>> {
        let released = self.tx.release_dependents(parents).await?;
        self.run_or_skip(released).await
    }

    /// Of dependents just counted, those at zero run (their queues woken),
    /// or, with a condition, have it evaluated against their parents'
    /// results and are skipped (counted, returned) when it is false.
    async fn run_or_skip(&mut self, counted: Vec<Released>) -> Result<Vec<JobId>> {
        let mut conditional = Vec::new();
        for dependent in counted {
            if dependent.pending_dependencies > 0 {
                continue;
            }
            match &dependent.condition {
                None => self.wake(&dependent.queue_name),
                Some(_) => conditional.push(dependent),
            }
        }
        if conditional.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<JobId> = conditional.iter().map(|d| d.id).collect();
        let mut results: HashMap<JobId, Vec<Value>> = HashMap::new();
        for (job, result) in self.tx.parent_results(&ids).await? {
            results.entry(job).or_default().push(result);
        }
        let decisions: Vec<(JobId, bool)> = conditional
            .iter()
            .map(|d| {
                let condition = d.condition.as_deref().unwrap_or_default();
                let parents = results.get(&d.id).into_iter().flatten();
                (d.id, condition_holds(condition, parents))
            })
            .collect();
        self.tx.resolve_conditions(&decisions, self.now).await?;
        let mut skipped = Vec::new();
        for (dependent, (id, runs)) in conditional.iter().zip(decisions) {
            if runs {
                self.wake(&dependent.queue_name);
            } else {
                self.count(dependent.workflow_id, JobStatus::Skipped, 1);
                skipped.push(id);
            }
        }
        Ok(skipped)
    }

    /// Moves on the jobs a workflow retry has just recounted, as if their
    /// parents had ended now: one whose parents all completed runs, or has
    /// its condition evaluated; one still counting a parent that ended
    /// without completing (and was not reset) ends as that parent's end
    /// ends its dependents, rather than wait forever.
    pub(crate) async fn follow_recount(&mut self, recounted: Vec<Released>) -> Result<()> {
        let waiting: Vec<JobId> = recounted
            .iter()
            .filter(|r| r.pending_dependencies > 0)
            .map(|r| r.id)
            .collect();
        let mut skipped = self.run_or_skip(recounted).await?;
        let mut dead = Vec::new();
        let mut cancelled = Vec::new();
        if !waiting.is_empty() {
            for parent in self.tx.ended_parents(&waiting).await? {
                match parent.status {
                    JobStatus::Skipped => skipped.push(parent.id),
                    JobStatus::Dead => dead.push((parent.id, parent.workflow_id)),
                    JobStatus::Cancelled => cancelled.push(parent.id),
                    _ => {}
                }
            }
        }
        self.end_dependents_of(skipped, dead, cancelled).await
    }

    /// What ended jobs do to their unstarted dependents: skipped and
    /// cancelled ones end them alike; dead ones apply their failure policies.
    async fn end_dependents_of(
        &mut self,
        skipped: Vec<JobId>,
        dead: Vec<(JobId, Option<WorkflowId>)>,
        cancelled: Vec<JobId>,
    ) -> Result<()> {
        if !skipped.is_empty() {
            self.end(skipped, JobStatus::Skipped, "a dependency was skipped")
                .await?;
        }
        if !dead.is_empty() {
            self.apply_failure_policies(dead).await?;
        }
        if !cancelled.is_empty() {
            self.end(
                cancelled,
                JobStatus::Cancelled,
                "a dependency was cancelled",
            )
            .await?;
        }
        Ok(())
    }

    /// Ends every unstarted transitive dependent of `frontier` as `status`.
    ///
    /// Repeats from the jobs each round ended until a round ends nothing: a
    /// dependent committed by a concurrent enqueue while the walk waited on
    /// its parent's lock is only visible to the next statement.
    async fn end(
        &mut self,
        mut frontier: Vec<JobId>,
        status: JobStatus,
        why: &str,
    ) -> Result<Vec<Transition>> {
        let mut ended = Vec::new();
        while !frontier.is_empty() {
            frontier.sort_unstable();
            frontier.dedup();
            let round = self
                .tx
                .end_dependents(&frontier, status, why, self.now)
                .await?;
            self.count_all(&round);
            frontier = round.iter().map(|t| t.id).collect();
            ended.extend(round);
        }
        Ok(ended)
    }

    /// Applies each dead job's workflow failure policy (outside a workflow,
    /// its dependents die with it, as under `ContinueOnFailure`); a job the
    /// cascade kills in another workflow applies that workflow's policy.
    async fn apply_failure_policies(
        &mut self,
        dead: Vec<(JobId, Option<WorkflowId>)>,
    ) -> Result<()> {
        let workflows: Vec<WorkflowId> = dead
            .iter()
            .filter_map(|(_, w)| *w)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let policies = if workflows.is_empty() {
            HashMap::new()
        } else {
            self.tx.workflow_policies(&workflows).await?
        };
        let plan = plan_failures(&dead, &policies);
        if !plan.cascade.is_empty() {
            let killed = self
                .end(plan.cascade, JobStatus::Dead, "a dependency failed")
                .await?;
            let killed = killed.into_iter().map(|t| (t.id, t.workflow_id)).collect();
            let others = killed_in_other_workflows(killed, &policies);
            if !others.is_empty() {
                Box::pin(self.apply_failure_policies(others)).await?;
            }
        }
        if !plan.fail_fast.is_empty() {
            self.tx
                .set_workflow_state(&plan.fail_fast, WorkflowStatus::Failed)
                .await?;
            self.cancel_unfinished(
                &plan.fail_fast,
                "cancelled: another job of the workflow failed",
            )
            .await?;
        }
        if !plan.pause.is_empty() {
            self.tx
                .set_workflow_state(&plan.pause, WorkflowStatus::Paused)
                .await?;
        }
        Ok(())
    }

    /// Cancels every unfinished job of `workflows` (sorted) and the spawned
    /// jobs they await, and what waits on those.
    ///
    /// Repeats until a round cancels nothing: a round that waited for a
    /// spawning parent's transaction cannot see the children it grafted
    /// onto the workflow (they were committed after the statement began);
    /// the next statement does.
    pub(crate) async fn cancel_unfinished(
        &mut self,
        workflows: &[WorkflowId],
        why: &str,
    ) -> Result<()> {
        loop {
            let cancelled = self
                .tx
                .cancel_workflow_jobs(workflows, why, self.now)
                .await?;
            if cancelled.is_empty() {
                return Ok(());
            }
            Box::pin(self.follow(cancelled)).await?;
        }
    }
}
