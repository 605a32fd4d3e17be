//! [`Transaction`] on SQLite: each primitive is the statement of
//! `queries/<primitive>.sql`, under the write lock `BEGIN IMMEDIATE` took
//! (SQLite admits one writer, so nothing a transaction read can change
//! before it ends).

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hammerwork_api::driver::{
    job_id_from_row, job_id_pair_from_row, json_array, micros, parent_result_from_row,
    policy_from_row, released_from_row, reset_job_from_row, stored_parent_from_row,
    transition_from_row, workflow_id_from_row, JobRecord, Released, ResetJob, SettleRecord,
    StoredRow, Transaction, Transition, WorkflowCounts,
};
use hammerwork_api::retention::Pruned;
use hammerwork_api::spawn::SpawnOperation;
use hammerwork_api::workflow::{FailurePolicy, PlannedJob, StoredParent, Workflow};
use hammerwork_api::{
    Job, JobId, JobStatus, Lease, Outcome, Result, Settlement, WorkflowId, WorkflowStatus,
};
use serde_json::Value;
use sqlx::query::Query;
use sqlx::sqlite::SqliteArguments;
use sqlx::Sqlite;

use hammerwork_engine::LocalWakeups;

use crate::map_err::{explain_insert_error, map_err};
use crate::row::{all, id_list, ENQUEUE_CHUNK};

/// A transaction of [`SqliteDriver`], or a savepoint in the caller's own
/// transaction. Wakeups go out after commit, to this process's listeners.
pub struct SqliteTx<'c> {
    tx: sqlx::Transaction<'c, Sqlite>,
    /// `None` inside the caller's transaction: its commit is not ours to see.
    wakeups: Option<LocalWakeups>,
    wake: Vec<String>,
}

fn transition(row: &dyn StoredRow) -> Result<Transition> {
    transition_from_row(row, false)
}

fn ms(duration: std::time::Duration) -> i64 {
    duration.as_millis().min(i64::MAX as u128) as i64
}

impl<'c> SqliteTx<'c> {
    pub(crate) fn new(tx: sqlx::Transaction<'c, Sqlite>, wakeups: Option<LocalWakeups>) -> Self {
        let wake = Vec::new();
        SqliteTx { tx, wakeups, wake }
    }

    /// Every row of `query`, mapped with `from_row`.
    async fn fetch<'q, T>(
        &mut self,
        query: Query<'q, Sqlite, SqliteArguments<'q>>,
        from_row: impl Fn(&dyn StoredRow) -> Result<T>,
    ) -> Result<Vec<T>> {
        all(
            &query.fetch_all(&mut *self.tx).await.map_err(map_err)?,
            from_row,
        )
    }

    /// Runs `query`; how many rows it changed.
    async fn execute<'q>(&mut self, query: Query<'q, Sqlite, SqliteArguments<'q>>) -> Result<u64> {
        let done = query.execute(&mut *self.tx).await.map_err(map_err)?;
        Ok(done.rows_affected())
    }

    /// Whether `query` returned a row.
    async fn any<'q>(&mut self, query: Query<'q, Sqlite, SqliteArguments<'q>>) -> Result<bool> {
        Ok(!self.fetch(query, |_| Ok(())).await?.is_empty())
    }
}

#[async_trait]
impl Transaction for SqliteTx<'_> {
    async fn commit(self) -> Result<()> {
        self.tx.commit().await.map_err(map_err)?;
        if let Some(wakeups) = self.wakeups {
            wakeups.wake(self.wake);
        }
        Ok(())
    }

    async fn rollback(self) -> Result<()> {
        self.tx.rollback().await.map_err(map_err)
    }

    async fn wake(&mut self, queues: &[String]) -> Result<()> {
        self.wake.extend_from_slice(queues);
        Ok(())
    }

    async fn lock_stored_parents(&mut self, ids: &[JobId]) -> Result<Vec<(JobId, StoredParent)>> {
        let query = sql!("lock_stored_parents", id_list(ids));
        self.fetch(query, stored_parent_from_row).await
    }

    async fn insert_workflow(&mut self, w: &Workflow, total_jobs: i64) -> Result<()> {
        let (id, policy) = (w.id.to_string(), w.failure_policy.as_str());
        let (created, deadline) = (micros(w.created_at), w.deadline_at.map(micros));
        let query = sql!(
            "insert_workflow",
            id,
            &w.name,
            &w.description,
            policy,
            created
        )
        .bind(deadline)
        .bind(total_jobs)
        .bind(&w.cron_schedule)
        .bind(w.timeout.map(ms));
        self.execute(query).await.map(drop)
    }

    async fn insert_jobs(
        &mut self,
        jobs: &[Job],
        plans: &[PlannedJob],
        now: DateTime<Utc>,
    ) -> Result<()> {
        for (chunk, plan_chunk) in jobs.chunks(ENQUEUE_CHUNK).zip(plans.chunks(ENQUEUE_CHUNK)) {
            let query = sql!(
                "insert_jobs",
                JobRecord::encode(chunk, plan_chunk)?,
                micros(now)
            );
            if let Err(err) = query.execute(&mut *self.tx).await {
                return Err(explain_insert_error(&mut self.tx, chunk, err).await);
            }
        }
        Ok(())
    }

    async fn insert_dependencies(&mut self, edges: &[(JobId, JobId)]) -> Result<()> {
        for chunk in edges.chunks(ENQUEUE_CHUNK * 4) {
            self.execute(sql!("insert_dependencies", json_array(chunk)?))
                .await?;
        }
        Ok(())
    }

    async fn settle_attempts(
        &mut self,
        settlements: &[Settlement],
        now: DateTime<Utc>,
    ) -> Result<Vec<Transition>> {
        let outcomes = SettleRecord::encode(settlements)?;
        let completed = |s: &Settlement| matches!(s.outcome, Outcome::Completed { .. });
        let query = if settlements.iter().all(completed) {
            sql!("settle_attempts_completed", outcomes, micros(now))
        } else {
            sql!("settle_attempts", outcomes, micros(now))
        };
        self.fetch(query, transition).await
    }

    async fn rescue_expired_jobs(
        &mut self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Transition>> {
        let query = sql!("rescue_expired_jobs", micros(now), i64::from(limit));
        self.fetch(query, transition).await
    }

    async fn release_dependents(&mut self, parents: &[JobId]) -> Result<Vec<Released>> {
        let query = sql!("release_dependents", id_list(parents));
        self.fetch(query, released_from_row).await
    }

    async fn parent_results(&mut self, jobs: &[JobId]) -> Result<Vec<(JobId, Value)>> {
        let query = sql!("parent_results", id_list(jobs));
        self.fetch(query, parent_result_from_row).await
    }

    async fn resolve_conditions(
        &mut self,
        decisions: &[(JobId, bool)],
        now: DateTime<Utc>,
    ) -> Result<()> {
        let query = sql!("resolve_conditions", json_array(decisions)?, micros(now));
        self.execute(query).await.map(drop)
    }

    async fn end_dependents(
        &mut self,
        parents: &[JobId],
        status: JobStatus,
        why: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Transition>> {
        let query = sql!(
            "end_dependents",
            id_list(parents),
            status.as_str(),
            why,
            micros(now)
        );
        self.fetch(query, transition).await
    }

    async fn workflow_policies(
        &mut self,
        ids: &[WorkflowId],
    ) -> Result<HashMap<WorkflowId, FailurePolicy>> {
        let query = sql!("workflow_policies", id_list(ids));
        Ok(self
            .fetch(query, policy_from_row)
            .await?
            .into_iter()
            .collect())
    }

    async fn set_workflow_state(
        &mut self,
        ids: &[WorkflowId],
        state: WorkflowStatus,
    ) -> Result<()> {
        let query = sql!("set_workflow_state", id_list(ids), state.as_str());
        self.execute(query).await.map(drop)
    }

    async fn add_workflow_counts(&mut self, counts: &[WorkflowCounts]) -> Result<()> {
        let query = sql!("add_workflow_counts", json_array(counts)?);
        self.execute(query).await.map(drop)
    }

    async fn cancel_job(&mut self, id: JobId, now: DateTime<Utc>) -> Result<Option<Transition>> {
        let query = sql!("cancel_job", id.to_string(), micros(now));
        Ok(self.fetch(query, transition).await?.pop())
    }

    async fn cancel_workflow(&mut self, id: WorkflowId) -> Result<bool> {
        self.any(sql!("cancel_workflow", id.to_string())).await
    }

    async fn reset_job(&mut self, id: JobId, now: DateTime<Utc>) -> Result<Option<ResetJob>> {
        let found = self.fetch(sql!("reset_job", id.to_string()), reset_job_from_row);
        let Some(job) = found.await?.pop() else {
            return Ok(None);
        };
        let ids = id_list(&[job.id]);
        self.execute(sql!("reset_workflow_jobs", ids, micros(now)))
            .await?;
        Ok(Some(job))
    }

    async fn pause_queue(&mut self, queue: &str, now: DateTime<Utc>) -> Result<bool> {
        self.any(sql!("pause_queue", queue, micros(now))).await
    }

    async fn resume_queue(&mut self, queue: &str) -> Result<bool> {
        self.any(sql!("resume_queue", queue)).await
    }

    async fn cancel_workflow_jobs(
        &mut self,
        ids: &[WorkflowId],
        why: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Transition>> {
        let query = sql!("cancel_workflow_jobs", id_list(ids), why, micros(now));
        self.fetch(query, transition).await
    }

    async fn prunable_jobs(
        &mut self,
        queue: &str,
        status: JobStatus,
        ended_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<JobId>> {
        let (status, ended_before) = (status.as_str(), micros(ended_before));
        let query = sql!(
            "prunable_jobs",
            queue,
            status,
            ended_before,
            i64::from(limit)
        );
        self.fetch(query, |row| job_id_from_row(row, "id")).await
    }

    async fn delete_jobs(&mut self, ids: &[JobId]) -> Result<Pruned> {
        let ids = id_list(ids);
        let spawn_operations = self.execute(sql!("delete_jobs_operations", &ids)).await?;
        let jobs = self.execute(sql!("delete_jobs", &ids)).await?;
        self.execute(sql!("delete_jobs_edges", &ids)).await?;
        Ok(Pruned {
            jobs,
            workflows: 0,
            spawn_operations,
        })
    }

    async fn mark_finished_workflows(
        &mut self,
        ids: &[WorkflowId],
        now: DateTime<Utc>,
    ) -> Result<()> {
        let query = sql!("mark_finished_workflows", id_list(ids), micros(now));
        self.execute(query).await.map(drop)
    }

    async fn prunable_workflows(
        &mut self,
        ended_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<WorkflowId>> {
        let query = sql!("prunable_workflows", micros(ended_before), i64::from(limit));
        self.fetch(query, workflow_id_from_row).await
    }

    async fn delete_workflows(&mut self, ids: &[WorkflowId]) -> Result<Pruned> {
        let workflows = id_list(ids);
        let jobs = self.fetch(sql!("delete_workflows_jobs", &workflows), |row| {
            job_id_from_row(row, "id")
        });
        let jobs = id_list(&jobs.await?);
        // Their edges first, either way: then no stored job depends on them
        // and the statements of delete_jobs take them all.
        self.execute(sql!("delete_workflow_edges", &jobs)).await?;
        let spawn_operations = self.execute(sql!("delete_jobs_operations", &jobs)).await?;
        let jobs = self.execute(sql!("delete_jobs", &jobs)).await?;
        let workflows = self.execute(sql!("delete_workflows", &workflows)).await?;
        Ok(Pruned {
            jobs,
            workflows,
            spawn_operations,
        })
    }

    async fn fail_expired_workflows(&mut self, now: DateTime<Utc>) -> Result<Vec<WorkflowId>> {
        let mut expired = self
            .fetch(
                sql!("fail_expired_workflows", micros(now)),
                workflow_id_from_row,
            )
            .await?;
        expired.sort_unstable();
        Ok(expired)
    }

    async fn reopen_workflow(&mut self, id: WorkflowId) -> Result<bool> {
        self.any(sql!("reopen_workflow", id.to_string())).await
    }

    async fn reset_workflow_jobs(
        &mut self,
        id: WorkflowId,
        now: DateTime<Utc>,
    ) -> Result<Vec<ResetJob>> {
        let targets = sql!("reset_workflow_jobs_targets", id.to_string());
        let reset = self.fetch(targets, reset_job_from_row).await?;
        let ids: Vec<JobId> = reset.iter().map(|job| job.id).collect();
        self.execute(sql!("reset_workflow_jobs", id_list(&ids), micros(now)))
            .await?;
        Ok(reset)
    }

    async fn recount_dependencies(
        &mut self,
        id: WorkflowId,
        also: &[JobId],
    ) -> Result<Vec<Released>> {
        let query = sql!("recount_dependencies", id.to_string(), id_list(also));
        self.fetch(query, released_from_row).await
    }

    async fn dependents(&mut self, parents: &[JobId]) -> Result<Vec<(JobId, JobId)>> {
        let query = sql!("dependents", id_list(parents));
        self.fetch(query, |row| {
            job_id_pair_from_row(row, "parent_id", "job_id")
        })
        .await
    }

    async fn awaited_children(&mut self, parents: &[JobId]) -> Result<Vec<(JobId, JobId)>> {
        let query = sql!("awaited_children", id_list(parents));
        self.fetch(query, |row| {
            job_id_pair_from_row(row, "parent_job_id", "id")
        })
        .await
    }

    async fn ended_parents(&mut self, jobs: &[JobId]) -> Result<Vec<Transition>> {
        let query = sql!("ended_parents", id_list(jobs));
        self.fetch(query, |row| transition_from_row(row, false))
            .await
    }

    async fn lock_running_attempt(&mut self, lease: Lease) -> Result<bool> {
        let query = sql!("lock_running_attempt", lease.id.to_string(), lease.claim);
        self.any(query).await
    }

    async fn graft_children(&mut self, parent: JobId, children: &[JobId]) -> Result<Vec<JobId>> {
        let (parent, children) = (parent.to_string(), id_list(children));
        self.execute(sql!("graft_children_edges", &parent, &children))
            .await?;
        let query = sql!("graft_children", &parent, &children);
        let mut held = self.fetch(query, |row| job_id_from_row(row, "id")).await?;
        held.sort_unstable();
        Ok(held)
    }

    async fn insert_spawn_operation(&mut self, op: &SpawnOperation) -> Result<bool> {
        let count = |n: u64| n.min(i64::MAX as u64) as i64;
        let metadata = op.metadata.as_ref().map(Value::to_string);
        let parent = op.parent_job_id.to_string();
        let query = sql!(
            "insert_spawn_operation",
            &op.id,
            parent,
            &op.queue_name,
            &op.handler
        )
        .bind(count(op.child_count))
        .bind(count(op.batch_count))
        .bind(metadata)
        .bind(micros(op.created_at))
        .bind(i64::from(op.await_children));
        Ok(self.execute(query).await? > 0)
    }

    async fn mark_job_recurrence(&mut self, id: JobId, next: Option<JobId>) -> Result<bool> {
        let query = sql!(
            "mark_job_recurrence",
            id.to_string(),
            next.map(|n| n.to_string())
        );
        Ok(self.execute(query).await? > 0)
    }

    async fn mark_workflow_recurrence(
        &mut self,
        id: WorkflowId,
        next: Option<WorkflowId>,
    ) -> Result<bool> {
        let next = next.map(|n| n.to_string());
        let query = sql!("mark_workflow_recurrence", id.to_string(), next);
        Ok(self.execute(query).await? > 0)
    }
}
