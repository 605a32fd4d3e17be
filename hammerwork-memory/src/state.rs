//! The tables and their indexes, kept in step by the only two ways a row
//! changes ([`State::put_job`], [`State::put_workflow`]), with an undo log
//! for rollback.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use hammerwork_api::spawn::SpawnOperation;
use hammerwork_api::workflow::Workflow;
use hammerwork_api::{DependencyStatus, Job, JobId, JobStatus, WorkflowId};

/// A stored job and what is not on [`Job`]: whether it is its series' live
/// occurrence.
#[derive(Debug, Clone)]
pub(crate) struct JobRow {
    pub(crate) job: Job,
    pub(crate) cron_live: bool,
}

/// A stored workflow. Its `stats` hold the total and the terminal counts;
/// pending and running are derived when read.
#[derive(Debug, Clone)]
pub(crate) struct WorkflowRow {
    pub(crate) workflow: Workflow,
    pub(crate) cron_live: bool,
    /// When its last job ended (every job final); cleared by a retry.
    pub(crate) finished_at: Option<DateTime<Utc>>,
}

/// Claim order within a queue: priority (highest first), `scheduled_at`, id.
type ReadyKey = (String, Reverse<i16>, DateTime<Utc>, JobId);

/// Finished jobs outside workflows, in the order pruning takes them: queue,
/// status, when they ended, id.
type FinishedKey = (String, &'static str, DateTime<Utc>, JobId);

/// One change to undo on rollback.
enum Undo {
    Job(JobId, Option<Box<JobRow>>),
    Workflow(WorkflowId, Option<Box<WorkflowRow>>),
    Edge(JobId, JobId),
    RemovedEdge(JobId, JobId),
    SpawnOperation(String),
    RemovedSpawnOperation(Box<SpawnOperation>),
    /// A queue's pause as it was before: since when, if it was paused.
    Pause(String, Option<DateTime<Utc>>),
}

#[derive(Default)]
pub(crate) struct State {
    pub(crate) jobs: BTreeMap<JobId, JobRow>,
    pub(crate) workflows: BTreeMap<WorkflowId, WorkflowRow>,
    pub(crate) spawn_operations: BTreeMap<String, SpawnOperation>,
    /// Claimable jobs in claim order.
    pub(crate) ready: BTreeSet<ReadyKey>,
    /// Finished jobs outside workflows, for pruning.
    pub(crate) finished: BTreeSet<FinishedKey>,
    /// How many jobs each queue holds.
    pub(crate) queues: BTreeMap<String, usize>,
    /// Running jobs by lease end.
    pub(crate) leases: BTreeSet<(DateTime<Utc>, JobId)>,
    pub(crate) by_workflow: HashMap<WorkflowId, BTreeSet<JobId>>,
    pub(crate) running_by_workflow: HashMap<WorkflowId, u64>,
    /// Spawned jobs by the job that spawned them.
    pub(crate) spawned: HashMap<JobId, BTreeSet<JobId>>,
    /// Edges: parent -> dependents, and dependent -> parents.
    pub(crate) dependents: HashMap<JobId, BTreeSet<JobId>>,
    pub(crate) parents: HashMap<JobId, BTreeSet<JobId>>,
    /// Live occurrences of recurring jobs.
    pub(crate) cron_live: BTreeSet<JobId>,
    /// Leadership leases: role -> (holder, until).
    pub(crate) leaders: HashMap<String, (String, DateTime<Utc>)>,
    /// Paused queues, and since when.
    pub(crate) paused: BTreeMap<String, DateTime<Utc>>,
    undo: Vec<Undo>,
}

fn finished_key(job: &Job) -> Option<FinishedKey> {
    if job.workflow_id.is_some() || !job.status.is_terminal() {
        return None;
    }
    let ended = job.completed_at.or(job.failed_at)?;
    Some((job.queue_name.clone(), job.status.as_str(), ended, job.id))
}

fn ready_key(job: &Job) -> Option<ReadyKey> {
    let claimable = matches!(job.status, JobStatus::Pending | JobStatus::Retrying)
        && matches!(
            job.dependency_status,
            DependencyStatus::None | DependencyStatus::Satisfied
        );
    claimable.then(|| {
        (
            job.queue_name.clone(),
            Reverse(job.priority.as_i16()),
            job.scheduled_at,
            job.id,
        )
    })
}

impl State {
    pub(crate) fn job(&self, id: JobId) -> Option<&Job> {
        self.jobs.get(&id).map(|row| &row.job)
    }

    /// Writes (or replaces) a job row, keeping every index in step.
    pub(crate) fn put_job(&mut self, row: JobRow) {
        let id = row.job.id;
        let old = self.jobs.remove(&id);
        if let Some(old) = &old {
            self.index(old, -1);
        }
        self.index(&row, 1);
        self.jobs.insert(id, row);
        self.undo.push(Undo::Job(id, old.map(Box::new)));
    }

    /// Changes job `id` with `change`.
    pub(crate) fn update_job(&mut self, id: JobId, change: impl FnOnce(&mut JobRow)) {
        if let Some(mut row) = self.jobs.get(&id).cloned() {
            change(&mut row);
            self.put_job(row);
        }
    }

    /// Deletes job `id` unless a stored job depends on it, with its edges as
    /// a dependent and the spawn operation it made. Returns whether it
    /// deleted the job and whether the job had made one.
    pub(crate) fn delete_job(&mut self, id: JobId) -> (bool, bool) {
        if self.dependents.get(&id).is_some_and(|set| !set.is_empty()) {
            return (false, false);
        }
        self.delete_job_with_edges(id)
    }

    /// Deletes job `id` with its edges either way and the spawn operation it
    /// made (a job of a workflow pruned whole).
    pub(crate) fn delete_job_with_edges(&mut self, id: JobId) -> (bool, bool) {
        let dependents = self.dependents.get(&id).cloned().unwrap_or_default();
        for dependent in dependents {
            self.remove_edge(id, dependent);
        }
        let Some(old) = self.jobs.remove(&id) else {
            return (false, false);
        };
        self.index(&old, -1);
        self.undo.push(Undo::Job(id, Some(Box::new(old))));
        let parents = self.parents.get(&id).cloned().unwrap_or_default();
        for parent in parents {
            self.remove_edge(parent, id);
        }
        let made = self
            .spawn_operations
            .iter()
            .find(|(_, op)| op.parent_job_id == id);
        let made = made.map(|(key, _)| key.clone());
        if let Some(key) = &made {
            if let Some(op) = self.spawn_operations.remove(key) {
                self.undo.push(Undo::RemovedSpawnOperation(Box::new(op)));
            }
        }
        (true, made.is_some())
    }

    fn remove_edge(&mut self, parent: JobId, dependent: JobId) {
        self.unlink(parent, dependent);
        self.undo.push(Undo::RemovedEdge(parent, dependent));
    }

    /// Takes the edge out of both maps, logging nothing.
    fn unlink(&mut self, parent: JobId, dependent: JobId) {
        if let Some(set) = self.dependents.get_mut(&parent) {
            set.remove(&dependent);
        }
        if let Some(set) = self.parents.get_mut(&dependent) {
            set.remove(&parent);
        }
    }

    /// Deletes workflow `id`'s row; returns whether there was one.
    pub(crate) fn delete_workflow(&mut self, id: WorkflowId) -> bool {
        let old = self.workflows.remove(&id);
        let found = old.is_some();
        if found {
            self.undo.push(Undo::Workflow(id, old.map(Box::new)));
        }
        found
    }

    pub(crate) fn put_workflow(&mut self, row: WorkflowRow) {
        let id = row.workflow.id;
        let old = self.workflows.insert(id, row);
        self.undo.push(Undo::Workflow(id, old.map(Box::new)));
    }

    pub(crate) fn update_workflow(
        &mut self,
        id: WorkflowId,
        change: impl FnOnce(&mut WorkflowRow),
    ) {
        if let Some(mut row) = self.workflows.get(&id).cloned() {
            change(&mut row);
            self.put_workflow(row);
        }
    }

    pub(crate) fn add_edge(&mut self, parent: JobId, dependent: JobId) {
        if self.dependents.entry(parent).or_default().insert(dependent) {
            self.parents.entry(dependent).or_default().insert(parent);
            self.undo.push(Undo::Edge(parent, dependent));
        }
    }

    pub(crate) fn add_spawn_operation(&mut self, operation: SpawnOperation) {
        self.undo.push(Undo::SpawnOperation(operation.id.clone()));
        self.spawn_operations
            .insert(operation.id.clone(), operation);
    }

    /// Forgets the undo log: the changes stay.
    /// Sets or clears the pause of `queue`; returns whether it changed.
    pub(crate) fn set_paused(&mut self, queue: &str, since: Option<DateTime<Utc>>) -> bool {
        let before = self.paused.get(queue).copied();
        if before.is_some() == since.is_some() {
            return false;
        }
        match since {
            Some(since) => self.paused.insert(queue.to_string(), since),
            None => self.paused.remove(queue),
        };
        self.undo.push(Undo::Pause(queue.to_string(), before));
        true
    }

    pub(crate) fn commit(&mut self) {
        self.undo.clear();
    }

    /// Undoes every change since the last commit, newest first.
    pub(crate) fn rollback(&mut self) {
        while let Some(undo) = self.undo.pop() {
            match undo {
                Undo::Job(id, old) => {
                    if let Some(new) = self.jobs.remove(&id) {
                        self.index(&new, -1);
                    }
                    if let Some(old) = old {
                        self.index(&old, 1);
                        self.jobs.insert(id, *old);
                    }
                }
                Undo::Workflow(id, old) => {
                    match old {
                        Some(old) => self.workflows.insert(id, *old),
                        None => self.workflows.remove(&id),
                    };
                }
                Undo::Edge(parent, dependent) => self.unlink(parent, dependent),
                Undo::RemovedEdge(parent, dependent) => {
                    self.dependents.entry(parent).or_default().insert(dependent);
                    self.parents.entry(dependent).or_default().insert(parent);
                }
                Undo::SpawnOperation(id) => {
                    self.spawn_operations.remove(&id);
                }
                Undo::RemovedSpawnOperation(op) => {
                    self.spawn_operations.insert(op.id.clone(), *op);
                }
                Undo::Pause(queue, since) => {
                    match since {
                        Some(since) => self.paused.insert(queue, since),
                        None => self.paused.remove(&queue),
                    };
                }
            }
        }
    }

    /// Adds (`sign` 1) or removes (-1) a row's index entries.
    fn index(&mut self, row: &JobRow, sign: i8) {
        let job = &row.job;
        let add = sign > 0;
        if let Some(key) = ready_key(job) {
            if add {
                self.ready.insert(key);
            } else {
                self.ready.remove(&key);
            }
        }
        if let Some(key) = finished_key(job) {
            if add {
                self.finished.insert(key);
            } else {
                self.finished.remove(&key);
            }
        }
        let count = self.queues.entry(job.queue_name.clone()).or_default();
        *count = if add { *count + 1 } else { *count - 1 };
        if *count == 0 {
            self.queues.remove(&job.queue_name);
        }
        if job.status == JobStatus::Running {
            if let Some(until) = job.lease_expires_at {
                if add {
                    self.leases.insert((until, job.id));
                } else {
                    self.leases.remove(&(until, job.id));
                }
            }
        }
        if let Some(workflow) = job.workflow_id {
            let jobs = self.by_workflow.entry(workflow).or_default();
            if add {
                jobs.insert(job.id);
            } else {
                jobs.remove(&job.id);
            }
            if job.status == JobStatus::Running {
                let running = self.running_by_workflow.entry(workflow).or_default();
                *running = if add { *running + 1 } else { *running - 1 };
            }
        }
        if let Some(parent) = job.parent_job_id {
            let children = self.spawned.entry(parent).or_default();
            if add {
                children.insert(job.id);
            } else {
                children.remove(&job.id);
            }
        }
        if row.cron_live {
            if add {
                self.cron_live.insert(job.id);
            } else {
                self.cron_live.remove(&job.id);
            }
        }
    }

    /// The workflow as read: stored total and terminal counts, `running`
    /// from its running jobs, `pending` the rest.
    pub(crate) fn read_workflow(&self, row: &WorkflowRow) -> Workflow {
        let mut workflow = row.workflow.clone();
        let stats = &mut workflow.stats;
        stats.running_jobs = self
            .running_by_workflow
            .get(&workflow.id)
            .copied()
            .unwrap_or(0);
        stats.pending_jobs = unfinished(row).saturating_sub(stats.running_jobs);
        workflow
    }
}

/// Jobs of the workflow not in a terminal status.
pub(crate) fn unfinished(row: &WorkflowRow) -> u64 {
    let s = &row.workflow.stats;
    s.total_jobs
        .saturating_sub(s.completed_jobs + s.failed_jobs + s.skipped_jobs + s.cancelled_jobs)
}
