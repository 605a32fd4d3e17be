//! [`Transaction`] over the in-memory tables: the whole state is locked for
//! the transaction's life (one writer at a time, as on SQLite), and every
//! change is undone on rollback or drop.

use std::collections::{BTreeSet, HashMap, VecDeque};

use async_trait::async_trait;
use chrono::{DateTime, SubsecRound, Utc};
use hammerwork_api::driver::{Released, ResetJob, Transaction, Transition, WorkflowCounts};
use hammerwork_api::retention::Pruned;
use hammerwork_api::spawn::SpawnOperation;
use hammerwork_api::workflow::{FailurePolicy, PlannedJob, StoredParent, Workflow};
use hammerwork_api::{
    DependencyStatus, Error, Job, JobId, JobStatus, Lease, Outcome, Result, Settlement, WorkflowId,
    WorkflowStatus,
};
use hammerwork_engine::LocalWakeups;
use serde_json::Value;
use tokio::sync::OwnedMutexGuard;

use crate::state::{unfinished, JobRow, State, WorkflowRow};

/// Timestamps as databases keep them: to the microsecond.
pub(crate) fn micros(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(6)
}

fn unstarted(status: JobStatus) -> bool {
    matches!(status, JobStatus::Pending | JobStatus::Retrying)
}

fn unfinished_status(status: JobStatus) -> bool {
    matches!(
        status,
        JobStatus::Pending | JobStatus::Retrying | JobStatus::Running
    )
}

fn open(state: WorkflowStatus) -> bool {
    matches!(state, WorkflowStatus::Running | WorkflowStatus::Paused)
}

/// A transaction of [`MemoryDriver`](crate::MemoryDriver).
pub struct MemoryTx {
    state: OwnedMutexGuard<State>,
    wakeups: LocalWakeups,
    wake: Vec<String>,
}

impl MemoryTx {
    pub(crate) fn new(state: OwnedMutexGuard<State>, wakeups: LocalWakeups) -> Self {
        MemoryTx {
            state,
            wakeups,
            wake: Vec::new(),
        }
    }

    fn transition(&self, id: JobId) -> Transition {
        let job = self.state.job(id).expect("a job just changed exists");
        Transition::new(id, job.workflow_id, job.status)
    }

    /// Jobs of `workflows` in one of `statuses`, and the spawned jobs outside
    /// them in one of `statuses` that one of their jobs awaits.
    fn workflow_jobs_and_awaited(
        &self,
        workflows: &[WorkflowId],
        statuses: impl Fn(JobStatus) -> bool,
    ) -> BTreeSet<JobId> {
        let state = &*self.state;
        let mut found = BTreeSet::new();
        for workflow in workflows {
            for id in state.by_workflow.get(workflow).into_iter().flatten() {
                let job = state.job(*id).expect("indexed jobs exist");
                if statuses(job.status) {
                    found.insert(*id);
                }
                for parent in state.parents.get(id).into_iter().flatten() {
                    let Some(p) = state.job(*parent) else {
                        continue;
                    };
                    if p.workflow_id.is_none() && p.parent_job_id.is_some() && statuses(p.status) {
                        found.insert(*parent);
                    }
                }
            }
        }
        found
    }
}

impl MemoryTx {
    /// Job `id` back to pending at `now` with no attempt made; what it was.
    fn start_over(&mut self, id: JobId, now: DateTime<Utc>) -> ResetJob {
        let job = self.state.job(id).expect("the caller found it");
        let reset = ResetJob::new(id, job.workflow_id, job.queue_name.clone(), job.status);
        self.state.update_job(id, |row| {
            let job = &mut row.job;
            job.status = JobStatus::Pending;
            job.attempts = 0;
            job.error_message = None;
            job.failed_at = None;
            job.completed_at = None;
            job.lease_expires_at = None;
            job.scheduled_at = micros(now);
        });
        reset
    }
}

impl Drop for MemoryTx {
    fn drop(&mut self) {
        // Committed transactions left nothing to undo.
        self.state.rollback();
    }
}

#[async_trait]
impl Transaction for MemoryTx {
    async fn commit(mut self) -> Result<()> {
        self.state.commit();
        self.wakeups.wake(std::mem::take(&mut self.wake));
        Ok(())
    }

    async fn rollback(mut self) -> Result<()> {
        self.state.rollback();
        Ok(())
    }

    async fn wake(&mut self, queues: &[String]) -> Result<()> {
        self.wake.extend_from_slice(queues);
        Ok(())
    }

    async fn lock_stored_parents(&mut self, ids: &[JobId]) -> Result<Vec<(JobId, StoredParent)>> {
        Ok(ids
            .iter()
            .filter_map(|id| self.state.job(*id))
            .map(|job| {
                let parent = StoredParent {
                    status: job.status,
                    result: job.result.clone(),
                };
                (job.id, parent)
            })
            .collect())
    }

    async fn insert_workflow(&mut self, workflow: &Workflow, total_jobs: i64) -> Result<()> {
        let mut workflow = workflow.clone();
        workflow.state = WorkflowStatus::Running;
        workflow.stats = Default::default();
        workflow.stats.total_jobs = total_jobs.max(0) as u64;
        let cron_live = workflow.cron_schedule.is_some();
        self.state.put_workflow(WorkflowRow {
            workflow,
            cron_live,
            finished_at: None,
        });
        Ok(())
    }

    async fn insert_jobs(
        &mut self,
        jobs: &[Job],
        plans: &[PlannedJob],
        now: DateTime<Utc>,
    ) -> Result<()> {
        for (job, plan) in jobs.iter().zip(plans) {
            if self.state.jobs.contains_key(&job.id) {
                return Err(Error::DuplicateJob { id: job.id });
            }
            let mut job = job.clone();
            job.status = plan.status;
            job.dependency_status = plan.dependency_status;
            job.pending_dependencies = plan.pending_dependencies;
            job.error_message = plan.error.clone();
            job.attempts = 0;
            job.started_at = None;
            job.failed_at = None;
            job.lease_expires_at = None;
            job.result = None;
            job.next_occurrence = None;
            job.completed_at = (plan.status != JobStatus::Pending).then(|| micros(now));
            let cron_live = job.cron_schedule.is_some();
            self.state.put_job(JobRow { job, cron_live });
        }
        Ok(())
    }

    async fn insert_dependencies(&mut self, edges: &[(JobId, JobId)]) -> Result<()> {
        for (parent, dependent) in edges {
            self.state.add_edge(*parent, *dependent);
        }
        Ok(())
    }

    async fn settle_attempts(
        &mut self,
        settlements: &[Settlement],
        now: DateTime<Utc>,
    ) -> Result<Vec<Transition>> {
        let now = micros(now);
        let mut changed = Vec::new();
        for settlement in settlements {
            let Lease { id, claim } = settlement.lease;
            let current = self
                .state
                .job(id)
                .is_some_and(|job| job.status == JobStatus::Running && job.claims == claim);
            if !current {
                continue;
            }
            self.state.update_job(id, |row| {
                let job = &mut row.job;
                job.lease_expires_at = None;
                match &settlement.outcome {
                    Outcome::Completed { result } => {
                        job.status = JobStatus::Completed;
                        job.result = result.clone();
                        job.completed_at = Some(now);
                    }
                    Outcome::Failed { error, retry_at } => {
                        if let Some(at) = retry_at {
                            job.scheduled_at = micros(*at);
                        }
                        job.status = match retry_at {
                            Some(_) if job.attempts < job.max_attempts => JobStatus::Retrying,
                            _ => JobStatus::Dead,
                        };
                        job.error_message = Some(error.clone());
                        job.failed_at = Some(now);
                    }
                    Outcome::Cancelled { reason } => {
                        job.status = JobStatus::Cancelled;
                        job.error_message = Some(reason.clone());
                        job.completed_at = Some(now);
                    }
                    Outcome::GiveBack { started } => {
                        job.scheduled_at = now;
                        if *started && job.attempts >= job.max_attempts {
                            job.status = JobStatus::Dead;
                            job.error_message =
                                Some("interrupted by shutdown on its last attempt".into());
                            job.failed_at = Some(now);
                        } else {
                            job.status = JobStatus::Pending;
                            if !started {
                                job.attempts -= 1;
                            }
                        }
                    }
                    _ => unreachable!("every Outcome variant is handled"),
                }
            });
            changed.push(self.transition(id));
        }
        Ok(changed)
    }

    async fn rescue_expired_jobs(
        &mut self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Transition>> {
        let now = micros(now);
        let expired: Vec<JobId> = self
            .state
            .leases
            .iter()
            .take_while(|(until, _)| *until < now)
            .take(limit as usize)
            .map(|(_, id)| *id)
            .collect();
        let mut rescued = Vec::with_capacity(expired.len());
        for id in expired {
            self.state.update_job(id, |row| {
                let job = &mut row.job;
                job.status = if job.attempts >= job.max_attempts {
                    JobStatus::Dead
                } else {
                    JobStatus::Pending
                };
                job.scheduled_at = now;
                job.error_message = Some("lease expired: the worker stopped heartbeating".into());
                job.failed_at = Some(now);
                job.lease_expires_at = None;
            });
            rescued.push(self.transition(id));
        }
        Ok(rescued)
    }

    async fn release_dependents(&mut self, parents: &[JobId]) -> Result<Vec<Released>> {
        let mut counts: std::collections::BTreeMap<JobId, i32> = Default::default();
        for parent in parents {
            for dependent in self.state.dependents.get(parent).into_iter().flatten() {
                *counts.entry(*dependent).or_default() += 1;
            }
        }
        let mut released = Vec::new();
        for (id, n) in counts {
            let waiting = self.state.job(id).is_some_and(|job| {
                job.dependency_status == DependencyStatus::Waiting && unstarted(job.status)
            });
            if !waiting {
                continue;
            }
            self.state.update_job(id, |row| {
                let job = &mut row.job;
                job.pending_dependencies -= n;
                if job.pending_dependencies <= 0 && job.condition.is_none() {
                    job.dependency_status = DependencyStatus::Satisfied;
                }
            });
            let job = self.state.job(id).expect("just updated");
            released.push(Released::new(
                id,
                job.workflow_id,
                job.queue_name.clone(),
                job.pending_dependencies,
                job.condition.clone(),
            ));
        }
        Ok(released)
    }

    async fn parent_results(&mut self, jobs: &[JobId]) -> Result<Vec<(JobId, Value)>> {
        let mut results = Vec::new();
        for job in jobs {
            for parent in self.state.parents.get(job).into_iter().flatten() {
                if let Some(result) = self.state.job(*parent).and_then(|p| p.result.clone()) {
                    results.push((*job, result));
                }
            }
        }
        Ok(results)
    }

    async fn resolve_conditions(
        &mut self,
        decisions: &[(JobId, bool)],
        now: DateTime<Utc>,
    ) -> Result<()> {
        for (id, runs) in decisions {
            self.state.update_job(*id, |row| {
                let job = &mut row.job;
                job.dependency_status = DependencyStatus::Satisfied;
                if !runs {
                    job.status = JobStatus::Skipped;
                    job.error_message = Some("condition is false".into());
                    job.completed_at = Some(micros(now));
                }
            });
        }
        Ok(())
    }

    async fn end_dependents(
        &mut self,
        parents: &[JobId],
        status: JobStatus,
        why: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Transition>> {
        let mut seen = BTreeSet::new();
        let mut queue: VecDeque<JobId> = parents.iter().copied().collect();
        while let Some(parent) = queue.pop_front() {
            for dependent in self.state.dependents.get(&parent).into_iter().flatten() {
                if seen.insert(*dependent) {
                    queue.push_back(*dependent);
                }
            }
        }
        let mut ended = Vec::new();
        for id in seen {
            if !self.state.job(id).is_some_and(|job| unstarted(job.status)) {
                continue;
            }
            self.state.update_job(id, |row| {
                let job = &mut row.job;
                job.status = status;
                job.dependency_status = DependencyStatus::Failed;
                job.error_message = Some(why.to_string());
                job.completed_at = Some(micros(now));
                job.lease_expires_at = None;
            });
            ended.push(self.transition(id));
        }
        Ok(ended)
    }

    async fn workflow_policies(
        &mut self,
        ids: &[WorkflowId],
    ) -> Result<HashMap<WorkflowId, FailurePolicy>> {
        Ok(ids
            .iter()
            .filter_map(|id| self.state.workflows.get(id))
            .map(|row| (row.workflow.id, row.workflow.failure_policy))
            .collect())
    }

    async fn set_workflow_state(
        &mut self,
        ids: &[WorkflowId],
        state: WorkflowStatus,
    ) -> Result<()> {
        for id in ids {
            self.state.update_workflow(*id, |row| {
                if open(row.workflow.state) {
                    row.workflow.state = state;
                }
            });
        }
        Ok(())
    }

    async fn add_workflow_counts(&mut self, counts: &[WorkflowCounts]) -> Result<()> {
        let add = |n: &mut u64, delta: i64| *n = n.saturating_add_signed(delta);
        for c in counts {
            self.state.update_workflow(c.id, |row| {
                let stats = &mut row.workflow.stats;
                add(&mut stats.completed_jobs, c.completed);
                add(&mut stats.failed_jobs, c.failed);
                add(&mut stats.skipped_jobs, c.skipped);
                add(&mut stats.cancelled_jobs, c.cancelled);
            });
        }
        Ok(())
    }

    async fn cancel_job(&mut self, id: JobId, now: DateTime<Utc>) -> Result<Option<Transition>> {
        if !self
            .state
            .job(id)
            .is_some_and(|job| unfinished_status(job.status))
        {
            return Ok(None);
        }
        self.state.update_job(id, |row| {
            let job = &mut row.job;
            job.status = JobStatus::Cancelled;
            job.error_message = Some("cancelled".into());
            job.completed_at = Some(micros(now));
            job.lease_expires_at = None;
        });
        Ok(Some(self.transition(id)))
    }

    async fn pause_queue(&mut self, queue: &str, now: DateTime<Utc>) -> Result<bool> {
        Ok(self.state.set_paused(queue, Some(now)))
    }

    async fn resume_queue(&mut self, queue: &str) -> Result<bool> {
        Ok(self.state.set_paused(queue, None))
    }

    async fn cancel_workflow(&mut self, id: WorkflowId) -> Result<bool> {
        let cancellable =
            self.state
                .workflows
                .get(&id)
                .is_some_and(|row| match row.workflow.state {
                    WorkflowStatus::Paused => true,
                    state => open(state) && unfinished(row) > 0,
                });
        if cancellable {
            self.state.update_workflow(id, |row| {
                row.workflow.state = WorkflowStatus::Cancelled;
            });
        }
        Ok(cancellable)
    }

    async fn cancel_workflow_jobs(
        &mut self,
        ids: &[WorkflowId],
        why: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Transition>> {
        let targets = self.workflow_jobs_and_awaited(ids, unfinished_status);
        let mut cancelled = Vec::with_capacity(targets.len());
        for id in targets {
            self.state.update_job(id, |row| {
                let job = &mut row.job;
                job.status = JobStatus::Cancelled;
                job.error_message = Some(why.to_string());
                job.completed_at = Some(micros(now));
                job.lease_expires_at = None;
            });
            cancelled.push(self.transition(id));
        }
        Ok(cancelled)
    }

    async fn prunable_jobs(
        &mut self,
        queue: &str,
        status: JobStatus,
        ended_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<JobId>> {
        let state = &self.state;
        let from = (
            queue.to_owned(),
            status.as_str(),
            DateTime::<Utc>::MIN_UTC,
            JobId(uuid::Uuid::nil()),
        );
        let range = state.finished.range(from..);
        let range = range.take_while(|(q, s, ended, _)| {
            q == queue && *s == status.as_str() && *ended < ended_before
        });
        let prunable = range.map(|(_, _, _, id)| *id).filter(|id| {
            !state.cron_live.contains(id)
                && state.dependents.get(id).is_none_or(BTreeSet::is_empty)
                && state.spawned.get(id).is_none_or(BTreeSet::is_empty)
        });
        Ok(prunable.take(limit as usize).collect())
    }

    async fn delete_jobs(&mut self, ids: &[JobId]) -> Result<Pruned> {
        let mut pruned = Pruned::default();
        for id in ids {
            let (job, operation) = self.state.delete_job(*id);
            pruned.jobs += u64::from(job);
            pruned.spawn_operations += u64::from(operation);
        }
        Ok(pruned)
    }

    async fn mark_finished_workflows(
        &mut self,
        ids: &[WorkflowId],
        now: DateTime<Utc>,
    ) -> Result<()> {
        for id in ids {
            self.state.update_workflow(*id, |row| {
                if row.finished_at.is_none() && unfinished(row) == 0 {
                    row.finished_at = Some(micros(now));
                }
            });
        }
        Ok(())
    }

    /// A scan of the workflows: the memory backend is for tests.
    async fn prunable_workflows(
        &mut self,
        ended_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<WorkflowId>> {
        let state = &self.state;
        let outside = |workflow: WorkflowId, ids: Option<&BTreeSet<JobId>>| {
            ids.into_iter().flatten().any(|id| {
                state
                    .job(*id)
                    .is_some_and(|job| job.workflow_id != Some(workflow))
            })
        };
        let held = |workflow: WorkflowId| {
            state
                .by_workflow
                .get(&workflow)
                .into_iter()
                .flatten()
                .any(|job| {
                    outside(workflow, state.dependents.get(job))
                        || outside(workflow, state.spawned.get(job))
                })
        };
        let mut due: Vec<(DateTime<Utc>, WorkflowId)> = state
            .workflows
            .values()
            .filter(|row| !row.cron_live)
            .filter_map(|row| Some((row.finished_at?, row.workflow.id)))
            .filter(|(finished, id)| *finished < ended_before && !held(*id))
            .collect();
        due.sort();
        Ok(due
            .into_iter()
            .take(limit as usize)
            .map(|(_, id)| id)
            .collect())
    }

    async fn delete_workflows(&mut self, ids: &[WorkflowId]) -> Result<Pruned> {
        let mut pruned = Pruned::default();
        for id in ids {
            let jobs = self.state.by_workflow.get(id).cloned().unwrap_or_default();
            for job in jobs {
                let (deleted, operation) = self.state.delete_job_with_edges(job);
                pruned.jobs += u64::from(deleted);
                pruned.spawn_operations += u64::from(operation);
            }
            pruned.workflows += u64::from(self.state.delete_workflow(*id));
        }
        Ok(pruned)
    }

    async fn fail_expired_workflows(&mut self, now: DateTime<Utc>) -> Result<Vec<WorkflowId>> {
        let expired: Vec<WorkflowId> = self
            .state
            .workflows
            .values()
            .filter(|row| {
                open(row.workflow.state)
                    && row.workflow.deadline_at.is_some_and(|at| at < now)
                    && unfinished(row) > 0
            })
            .map(|row| row.workflow.id)
            .collect();
        for id in &expired {
            self.state.update_workflow(*id, |row| {
                row.workflow.state = WorkflowStatus::Failed;
            });
        }
        Ok(expired)
    }

    async fn reopen_workflow(&mut self, id: WorkflowId) -> Result<bool> {
        let exists = self.state.workflows.contains_key(&id);
        self.state.update_workflow(id, |row| {
            row.workflow.state = WorkflowStatus::Running;
            row.finished_at = None;
        });
        Ok(exists)
    }

    async fn reset_workflow_jobs(
        &mut self,
        id: WorkflowId,
        now: DateTime<Utc>,
    ) -> Result<Vec<ResetJob>> {
        let targets = self.workflow_jobs_and_awaited(&[id], |status| {
            matches!(status, JobStatus::Dead | JobStatus::Cancelled)
        });
        Ok(targets
            .into_iter()
            .map(|job_id| self.start_over(job_id, now))
            .collect())
    }

    async fn reset_job(&mut self, id: JobId, now: DateTime<Utc>) -> Result<Option<ResetJob>> {
        let Some(job) = self.state.job(id) else {
            return Ok(None);
        };
        let can = matches!(job.status, JobStatus::Dead | JobStatus::Cancelled)
            && job.workflow_id.is_none()
            && matches!(
                job.dependency_status,
                DependencyStatus::None | DependencyStatus::Satisfied
            );
        Ok(can.then(|| self.start_over(id, now)))
    }

    async fn recount_dependencies(
        &mut self,
        id: WorkflowId,
        also: &[JobId],
    ) -> Result<Vec<Released>> {
        let mut jobs: BTreeSet<JobId> =
            self.state.by_workflow.get(&id).cloned().unwrap_or_default();
        jobs.extend(also);
        let mut recounted = Vec::new();
        for job_id in jobs {
            let Some(parents) = self.state.parents.get(&job_id).cloned() else {
                continue;
            };
            if parents.is_empty() || !self.state.job(job_id).is_some_and(|j| unstarted(j.status)) {
                continue;
            }
            let open = parents
                .iter()
                .filter(|p| {
                    self.state
                        .job(**p)
                        .is_none_or(|p| p.status != JobStatus::Completed)
                })
                .count() as i32;
            self.state.update_job(job_id, |row| {
                row.job.pending_dependencies = open;
                // A job with a condition waits at zero until it is evaluated.
                row.job.dependency_status = if open > 0 || row.job.condition.is_some() {
                    DependencyStatus::Waiting
                } else {
                    DependencyStatus::Satisfied
                };
            });
            if let Some(job) = self.state.job(job_id) {
                recounted.push(Released::new(
                    job.id,
                    job.workflow_id,
                    job.queue_name.clone(),
                    open,
                    job.condition.clone(),
                ));
            }
        }
        Ok(recounted)
    }

    async fn dependents(&mut self, parents: &[JobId]) -> Result<Vec<(JobId, JobId)>> {
        let mut parents = parents.to_vec();
        parents.sort_unstable();
        Ok(parents
            .iter()
            .flat_map(|parent| {
                let dependents = self.state.dependents.get(parent).into_iter().flatten();
                dependents.map(move |dependent| (*parent, *dependent))
            })
            .collect())
    }

    async fn awaited_children(&mut self, parents: &[JobId]) -> Result<Vec<(JobId, JobId)>> {
        let awaiting: BTreeSet<JobId> = self
            .state
            .spawn_operations
            .values()
            .filter(|op| op.await_children && parents.contains(&op.parent_job_id))
            .map(|op| op.parent_job_id)
            .collect();
        let mut pairs: Vec<(JobId, JobId)> = awaiting
            .into_iter()
            .flat_map(|parent| {
                let children = self.state.spawned.get(&parent).into_iter().flatten();
                children.map(move |child| (parent, *child))
            })
            .collect();
        pairs.sort_unstable_by_key(|(_, child)| *child);
        Ok(pairs)
    }

    async fn ended_parents(&mut self, jobs: &[JobId]) -> Result<Vec<Transition>> {
        let mut parents: BTreeSet<JobId> = BTreeSet::new();
        for job in jobs {
            parents.extend(self.state.parents.get(job).into_iter().flatten());
        }
        Ok(parents
            .into_iter()
            .filter_map(|id| self.state.job(id))
            .filter(|p| {
                matches!(
                    p.status,
                    JobStatus::Skipped | JobStatus::Dead | JobStatus::Cancelled
                )
            })
            .map(|p| Transition::new(p.id, p.workflow_id, p.status))
            .collect())
    }

    async fn lock_running_attempt(&mut self, lease: Lease) -> Result<bool> {
        Ok(self
            .state
            .job(lease.id)
            .is_some_and(|job| job.status == JobStatus::Running && job.claims == lease.claim))
    }

    async fn graft_children(&mut self, parent: JobId, children: &[JobId]) -> Result<Vec<JobId>> {
        let held: Vec<JobId> = self
            .state
            .dependents
            .get(&parent)
            .into_iter()
            .flatten()
            .copied()
            .filter(|id| {
                self.state.job(*id).is_some_and(|job| {
                    unstarted(job.status) && job.dependency_status == DependencyStatus::Waiting
                })
            })
            .collect();
        for id in &held {
            for child in children {
                self.state.add_edge(*child, *id);
            }
            self.state.update_job(*id, |row| {
                row.job.pending_dependencies += children.len() as i32;
            });
        }
        Ok(held)
    }

    async fn insert_spawn_operation(&mut self, operation: &SpawnOperation) -> Result<bool> {
        let taken = self.state.spawn_operations.contains_key(&operation.id)
            || self
                .state
                .spawn_operations
                .values()
                .any(|op| op.parent_job_id == operation.parent_job_id);
        if taken {
            return Ok(false);
        }
        self.state.add_spawn_operation(operation.clone());
        Ok(true)
    }

    async fn mark_job_recurrence(&mut self, id: JobId, next: Option<JobId>) -> Result<bool> {
        let live = self.state.jobs.get(&id).is_some_and(|row| row.cron_live);
        if live {
            self.state.update_job(id, |row| {
                row.cron_live = false;
                row.job.next_occurrence = next;
            });
        }
        Ok(live)
    }

    async fn mark_workflow_recurrence(
        &mut self,
        id: WorkflowId,
        next: Option<WorkflowId>,
    ) -> Result<bool> {
        let live = self
            .state
            .workflows
            .get(&id)
            .is_some_and(|row| row.cron_live);
        if live {
            self.state.update_workflow(id, |row| {
                row.cron_live = false;
                row.workflow.next_occurrence = next;
            });
        }
        Ok(live)
    }
}
