//! [`Driver`] over the in-memory tables: claims, heartbeats and reads.

use std::cmp::Reverse;
use std::collections::VecDeque;
use std::ops::Bound;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hammerwork_api::driver::Driver;
use hammerwork_api::spawn::{SpawnOperation, SpawnQuery, SpawnStats};
use hammerwork_api::workflow::Workflow;
use hammerwork_api::{
    Capabilities, ClaimParams, Job, JobId, JobPriority, JobStatus, Lease, ListJobsParams,
    ListWorkflowsParams, QueueCounts, Result, WakeupListener, WakeupScope, WorkflowId,
    WorkflowStatus,
};
use hammerwork_engine::LocalWakeups;
use tokio::sync::Mutex;

use crate::state::{unfinished, State};
use crate::tx::{micros, MemoryTx};

/// The in-memory driver: tables behind one lock, shared by clones.
#[derive(Clone, Default)]
pub struct MemoryDriver {
    state: Arc<Mutex<State>>,
    wakeups: LocalWakeups,
}

impl std::fmt::Debug for MemoryDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryDriver").finish_non_exhaustive()
    }
}

#[async_trait]
impl Driver for MemoryDriver {
    type Tx = MemoryTx;

    fn capabilities(&self) -> Capabilities {
        Capabilities::new(WakeupScope::Process)
    }

    async fn begin(&self) -> Result<MemoryTx> {
        let guard = self.state.clone().lock_owned().await;
        Ok(MemoryTx::new(guard, self.wakeups.clone()))
    }

    async fn claim_jobs(&self, params: &ClaimParams) -> Result<Vec<Job>> {
        let now = micros(params.now);
        let mut state = self.state.lock().await;
        if state.paused.contains_key(&params.queue) {
            return Ok(Vec::new());
        }
        let mut due = Vec::new();
        // Per priority, the due jobs are a prefix of the queue's range.
        // Claim order: every priority, highest first.
        for priority in JobPriority::ALL.into_iter().rev() {
            let from = (
                params.queue.clone(),
                Reverse(priority.as_i16()),
                DateTime::<Utc>::MIN_UTC,
                JobId(uuid_min()),
            );
            let room = params.limit as usize - due.len();
            due.extend(
                state
                    .ready
                    .range(from..)
                    .take_while(|(queue, p, at, _)| {
                        *queue == params.queue && p.0 == priority.as_i16() && *at <= now
                    })
                    .take(room)
                    .map(|(.., id)| *id),
            );
            if due.len() == params.limit as usize {
                break;
            }
        }
        let mut claimed = Vec::with_capacity(due.len());
        for id in due {
            state.update_job(id, |row| {
                let job = &mut row.job;
                job.status = JobStatus::Running;
                job.attempts += 1;
                job.claims += 1;
                job.started_at = Some(now);
                job.lease_expires_at = Some(micros(params.lease_until));
            });
            claimed.push(state.job(id).expect("claimed").clone());
        }
        state.commit();
        Ok(claimed)
    }

    async fn next_due(&self, queue: &str, after: DateTime<Utc>) -> Result<Option<DateTime<Utc>>> {
        let after = micros(after);
        let state = self.state.lock().await;
        let next = |priority: JobPriority| {
            let from = (
                queue.to_string(),
                Reverse(priority.as_i16()),
                after,
                JobId(uuid_min()),
            );
            state
                .ready
                .range(from..)
                .take_while(|(q, p, ..)| q == queue && p.0 == priority.as_i16())
                .map(|(_, _, at, _)| *at)
                .find(|at| *at > after)
        };
        Ok(JobPriority::ALL.into_iter().filter_map(next).min())
    }

    async fn heartbeat_jobs(&self, leases: &[Lease], lease_until: DateTime<Utc>) -> Result<u64> {
        let mut state = self.state.lock().await;
        let mut extended = 0;
        for lease in leases {
            let current = state
                .job(lease.id)
                .is_some_and(|job| job.status == JobStatus::Running && job.claims == lease.claim);
            if current {
                state.update_job(lease.id, |row| {
                    row.job.lease_expires_at = Some(micros(lease_until));
                });
                extended += 1;
            }
        }
        state.commit();
        Ok(extended)
    }

    async fn try_lead(&self, role: &str, holder: &str, ttl: std::time::Duration) -> Result<bool> {
        let now = Utc::now();
        let mut state = self.state.lock().await;
        let free = state
            .leaders
            .get(role)
            .is_none_or(|(current, until)| current == holder || *until < now);
        if free {
            let until = hammerwork_api::later(now, ttl);
            state.leaders.insert(role.into(), (holder.into(), until));
        }
        Ok(free)
    }

    async fn resign(&self, role: &str, holder: &str) -> Result<()> {
        let mut state = self.state.lock().await;
        if state
            .leaders
            .get(role)
            .is_some_and(|(current, _)| current == holder)
        {
            state.leaders.remove(role);
        }
        Ok(())
    }

    async fn listen(&self) -> Result<Option<Box<dyn WakeupListener>>> {
        Ok(Some(self.wakeups.listen()))
    }

    async fn get_jobs(&self, ids: &[JobId]) -> Result<Vec<Job>> {
        let state = self.state.lock().await;
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        Ok(ids
            .iter()
            .filter_map(|id| state.job(*id).cloned())
            .collect())
    }

    async fn list_jobs(&self, params: &ListJobsParams) -> Result<Vec<Job>> {
        let state = self.state.lock().await;
        let after = params.after.unwrap_or(JobId(uuid_min()));
        let matches = |job: &&Job| {
            job.id > after
                && params.queue.as_ref().is_none_or(|q| *q == job.queue_name)
                && params.status.is_none_or(|s| s == job.status)
                && params.workflow.is_none_or(|w| Some(w) == job.workflow_id)
                && params
                    .dependency_status
                    .is_none_or(|d| d == job.dependency_status)
        };
        let limit = params.limit.unwrap_or(100) as usize;
        let jobs: Vec<Job> = match params.workflow {
            Some(workflow) => state
                .by_workflow
                .get(&workflow)
                .into_iter()
                .flatten()
                .filter_map(|id| state.job(*id))
                .filter(matches)
                .take(limit)
                .cloned()
                .collect(),
            None => state
                .jobs
                .values()
                .map(|row| &row.job)
                .filter(matches)
                .take(limit)
                .cloned()
                .collect(),
        };
        Ok(jobs)
    }

    async fn queue_counts(&self, queue: &str) -> Result<QueueCounts> {
        let state = self.state.lock().await;
        let mut counts = QueueCounts::default();
        for row in state
            .jobs
            .values()
            .filter(|row| row.job.queue_name == queue)
        {
            counts.add(row.job.status, 1);
        }
        Ok(counts)
    }

    async fn get_workflow(&self, id: WorkflowId) -> Result<Option<Workflow>> {
        let state = self.state.lock().await;
        Ok(state.workflows.get(&id).map(|row| state.read_workflow(row)))
    }

    async fn list_workflows(&self, params: &ListWorkflowsParams) -> Result<Vec<Workflow>> {
        let state = self.state.lock().await;
        let after = params.after.unwrap_or(WorkflowId(uuid_min()));
        Ok(state
            .workflows
            .range(after..)
            .filter(|(id, _)| **id > after)
            .take(params.limit.unwrap_or(100) as usize)
            .map(|(_, row)| state.read_workflow(row))
            .collect())
    }

    async fn list_queues(&self) -> Result<Vec<String>> {
        Ok(self.state.lock().await.queues.keys().cloned().collect())
    }

    async fn paused_queues(&self) -> Result<Vec<String>> {
        Ok(self.state.lock().await.paused.keys().cloned().collect())
    }

    async fn list_recurring_jobs(&self, after: Option<JobId>, limit: u32) -> Result<Vec<Job>> {
        let state = self.state.lock().await;
        let from = after.map_or(Bound::Unbounded, Bound::Excluded);
        let live = state.cron_live.range((from, Bound::Unbounded));
        let live = live.filter_map(|id| state.job(*id));
        let finished = live.filter(|job| job.status.is_terminal());
        Ok(finished.take(limit as usize).cloned().collect())
    }

    async fn list_recurring_workflows(
        &self,
        after: Option<WorkflowId>,
        limit: u32,
    ) -> Result<Vec<Workflow>> {
        let state = self.state.lock().await;
        let from = after.map_or(Bound::Unbounded, Bound::Excluded);
        let workflows = state.workflows.range((from, Bound::Unbounded));
        let due = workflows.map(|(_, row)| row).filter(|row| {
            row.cron_live
                && (unfinished(row) == 0 || row.workflow.state == WorkflowStatus::Cancelled)
        });
        Ok(due
            .take(limit as usize)
            .map(|row| state.read_workflow(row))
            .collect())
    }

    async fn get_spawn_operation(&self, id: &str) -> Result<Option<SpawnOperation>> {
        Ok(self.state.lock().await.spawn_operations.get(id).cloned())
    }

    async fn list_spawn_operations(&self, query: &SpawnQuery) -> Result<Vec<SpawnOperation>> {
        let mut operations = matching_operations(&*self.state.lock().await, query);
        operations.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
        operations.truncate(query.limit.unwrap_or(100) as usize);
        Ok(operations)
    }

    async fn spawn_stats(&self, query: &SpawnQuery) -> Result<SpawnStats> {
        let state = self.state.lock().await;
        let operations = matching_operations(&state, query);
        let children = operations.iter().map(|op| op.child_count).sum();
        let failed = operations
            .iter()
            .flat_map(|op| {
                state
                    .spawned
                    .get(&op.parent_job_id)
                    .into_iter()
                    .flatten()
                    .filter_map(|id| state.job(*id))
                    .filter(move |job| job.spawn_operation_id.as_deref() == Some(op.id.as_str()))
            })
            .filter(|job| job.status == JobStatus::Dead)
            .count() as u64;
        Ok(SpawnStats::new(operations.len() as u64, children, failed))
    }

    async fn get_descendants(&self, id: JobId, max_depth: u32) -> Result<Vec<Job>> {
        let state = self.state.lock().await;
        let mut found = Vec::new();
        let mut level: VecDeque<JobId> = VecDeque::from([id]);
        for _ in 0..max_depth {
            let next: Vec<JobId> = level
                .iter()
                .flat_map(|parent| state.spawned.get(parent).into_iter().flatten().copied())
                .collect();
            if next.is_empty() {
                break;
            }
            let mut sorted = next.clone();
            sorted.sort_unstable();
            found.extend(sorted.iter().filter_map(|id| state.job(*id).cloned()));
            level = next.into();
        }
        Ok(found)
    }

    async fn get_ancestors(&self, id: JobId) -> Result<Vec<Job>> {
        let state = self.state.lock().await;
        let mut ancestors = Vec::new();
        let mut current = state.job(id).and_then(|job| job.parent_job_id);
        while let Some(parent) = current {
            let Some(job) = state.job(parent) else { break };
            ancestors.push(job.clone());
            current = job.parent_job_id;
        }
        Ok(ancestors)
    }

    async fn get_dependencies(&self, id: JobId) -> Result<Vec<Job>> {
        let state = self.state.lock().await;
        let parents = state.parents.get(&id).into_iter().flatten();
        Ok(parents.filter_map(|p| state.job(*p).cloned()).collect())
    }
}

fn uuid_min() -> uuid::Uuid {
    uuid::Uuid::nil()
}

fn matching_operations(state: &State, query: &SpawnQuery) -> Vec<SpawnOperation> {
    state
        .spawn_operations
        .values()
        .filter(|op| query.queue.as_ref().is_none_or(|q| *q == op.queue_name))
        .filter(|op| query.since.is_none_or(|at| op.created_at >= at))
        .filter(|op| query.until.is_none_or(|at| op.created_at < at))
        .cloned()
        .collect()
}
