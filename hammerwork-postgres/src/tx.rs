//! [`Transaction`] on PostgreSQL: each primitive is the statement of
//! `queries/<primitive>.sql`.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hammerwork_api::driver::{
    job_id_from_row, job_id_pair_from_row, parent_result_from_row, policy_from_row,
    pruned_from_row, released_from_row, reset_job_from_row, stored_parent_from_row,
    transition_from_row, workflow_id_from_row, Released, ResetJob, StoredRow, Transaction,
    Transition, WorkflowCounts,
};
use hammerwork_api::retention::Pruned;
use hammerwork_api::spawn::SpawnOperation;
use hammerwork_api::workflow::{FailurePolicy, PlannedJob, StoredParent, Workflow};
use hammerwork_api::{
    Job, JobId, JobStatus, Lease, Outcome, Result, Settlement, WorkflowId, WorkflowStatus,
};
use serde_json::Value;
use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::{PgPool, Postgres};
use uuid::Uuid;

use crate::map_err::{explain_insert_error, map_err};
use crate::row::{all, bind_jobs, uuids, ENQUEUE_CHUNK};

/// A transaction of [`PgDriver`], or a savepoint in the caller's own
/// transaction. NOTIFYs are sent inside it, so PostgreSQL delivers them when
/// the outermost transaction commits.
pub struct PgTx<'c> {
    tx: sqlx::Transaction<'c, Postgres>,
    /// For looking up a duplicate id after the transaction failed.
    pool: PgPool,
    /// The NOTIFY channel of the schema.
    channel: Arc<str>,
}

fn workflow_uuids(ids: &[WorkflowId]) -> Vec<Uuid> {
    ids.iter().map(|id| id.0).collect()
}

fn transition(row: &dyn StoredRow) -> Result<Transition> {
    transition_from_row(row, false)
}

impl<'c> PgTx<'c> {
    pub(crate) fn new(
        tx: sqlx::Transaction<'c, Postgres>,
        pool: PgPool,
        channel: Arc<str>,
    ) -> Self {
        PgTx { tx, pool, channel }
    }

    /// Every row of `query`, mapped with `from_row`.
    async fn fetch<T>(
        &mut self,
        query: Query<'_, Postgres, PgArguments>,
        from_row: impl Fn(&dyn StoredRow) -> Result<T>,
    ) -> Result<Vec<T>> {
        all(
            &query.fetch_all(&mut *self.tx).await.map_err(map_err)?,
            from_row,
        )
    }

    /// Runs `query`; how many rows it changed.
    async fn execute(&mut self, query: Query<'_, Postgres, PgArguments>) -> Result<u64> {
        let done = query.execute(&mut *self.tx).await.map_err(map_err)?;
        Ok(done.rows_affected())
    }

    /// finish.sql: `counts`, the finished stamp at `now` (none without),
    /// and the wakeups of `queues`.
    async fn write_finish(
        &mut self,
        counts: &[WorkflowCounts],
        queues: &[String],
        now: Option<DateTime<Utc>>,
    ) -> Result<()> {
        let col = |f: fn(&WorkflowCounts) -> i64| counts.iter().map(f).collect::<Vec<i64>>();
        let ids: Vec<Uuid> = counts.iter().map(|c| c.id.0).collect();
        let channel = self.channel.clone();
        let query = sql!("finish", ids, col(|c| c.completed), col(|c| c.failed))
            .bind(col(|c| c.skipped))
            .bind(col(|c| c.cancelled))
            .bind(&*channel)
            .bind(queues)
            .bind(now);
        self.execute(query).await.map(drop)
    }

    /// Whether `query` returned a row.
    async fn any(&mut self, query: Query<'_, Postgres, PgArguments>) -> Result<bool> {
        Ok(!self.fetch(query, |_| Ok(())).await?.is_empty())
    }
}

#[async_trait]
impl Transaction for PgTx<'_> {
    async fn commit(self) -> Result<()> {
        self.tx.commit().await.map_err(map_err)
    }

    async fn rollback(self) -> Result<()> {
        self.tx.rollback().await.map_err(map_err)
    }

    async fn wake(&mut self, queues: &[String]) -> Result<()> {
        self.write_finish(&[], queues, None).await
    }

    async fn lock_stored_parents(&mut self, ids: &[JobId]) -> Result<Vec<(JobId, StoredParent)>> {
        // Parents already flagged as having dependents are share-locked, so
        // enqueues depending on one job run side by side. A parent to be
        // flagged is locked exclusively from the start (all of the batch's,
        // in id order): two transactions that share-locked it and then both
        // flagged it would deadlock.
        let ids = uuids(ids);
        let unflagged = sql!("unflagged_parents", &ids);
        let unflagged = self.fetch(unflagged, |row| row.int("unflagged")).await?;
        let unflagged = unflagged.first() == Some(&Some(1));
        let lock = if unflagged {
            LOCK_PARENTS_EXCLUSIVE
        } else {
            LOCK_PARENTS_SHARED
        };
        let parents = self.fetch(sqlx::query(lock).bind(&ids), stored_parent_from_row);
        let parents = parents.await?;
        if unflagged {
            self.execute(sql!("lock_stored_parents_mark", &ids)).await?;
        }
        Ok(parents)
    }

    async fn insert_workflow(&mut self, w: &Workflow, total_jobs: i64) -> Result<()> {
        let timeout = w
            .timeout
            .map(|t| t.as_millis().min(i64::MAX as u128) as i64);
        let (policy, cron) = (w.failure_policy.as_str(), &w.cron_schedule);
        let query = sql!("insert_workflow", w.id.0, &w.name, &w.description, policy)
            .bind(w.created_at)
            .bind(w.deadline_at);
        self.execute(query.bind(total_jobs).bind(cron).bind(timeout))
            .await
            .map(drop)
    }

    async fn insert_jobs(
        &mut self,
        jobs: &[Job],
        plans: &[PlannedJob],
        now: DateTime<Utc>,
    ) -> Result<()> {
        for (chunk, plan_chunk) in jobs.chunks(ENQUEUE_CHUNK).zip(plans.chunks(ENQUEUE_CHUNK)) {
            let query = bind_jobs(sql!("insert_jobs"), chunk, plan_chunk, now);
            if let Err(err) = query.execute(&mut *self.tx).await {
                return Err(explain_insert_error(&self.pool, chunk, err).await);
            }
        }
        Ok(())
    }

    async fn insert_dependencies(&mut self, edges: &[(JobId, JobId)]) -> Result<()> {
        for chunk in edges.chunks(ENQUEUE_CHUNK * 4) {
            let (parents, dependents): (Vec<Uuid>, Vec<Uuid>) =
                chunk.iter().map(|(p, d)| (p.0, d.0)).unzip();
            self.execute(sql!("insert_dependencies", parents, dependents))
                .await?;
        }
        Ok(())
    }

    async fn settle_attempts(
        &mut self,
        settlements: &[Settlement],
        now: DateTime<Utc>,
    ) -> Result<Vec<Transition>> {
        let c = SettleColumns::of(settlements);
        self.fetch(c.bind(sqlx::query(SETTLE_ATTEMPTS), now), transition)
            .await
    }

    async fn rescue_expired_jobs(
        &mut self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Transition>> {
        let query = sql!("rescue_expired_jobs", now, i64::from(limit));
        self.fetch(query, transition).await
    }

    async fn release_dependents(&mut self, parents: &[JobId]) -> Result<Vec<Released>> {
        // Two statements, not one join: with the edge counts as a literal
        // list the planner updates dependents by primary key, never by a scan.
        let edges = self
            .fetch(sql!("release_dependents_edges", uuids(parents)), |row| {
                Ok((
                    job_id_from_row(row, "job_id")?.0,
                    row.int("n")?.unwrap_or(0) as i32,
                ))
            })
            .await?;
        if edges.is_empty() {
            return Ok(Vec::new());
        }
        let (dependents, counts): (Vec<Uuid>, Vec<i32>) = edges.into_iter().unzip();
        let query = sql!("release_dependents", dependents, counts);
        self.fetch(query, released_from_row).await
    }

    async fn parent_results(&mut self, jobs: &[JobId]) -> Result<Vec<(JobId, Value)>> {
        let query = sql!("parent_results", uuids(jobs));
        self.fetch(query, parent_result_from_row).await
    }

    async fn resolve_conditions(
        &mut self,
        decisions: &[(JobId, bool)],
        now: DateTime<Utc>,
    ) -> Result<()> {
        let (ids, runs): (Vec<Uuid>, Vec<bool>) =
            decisions.iter().map(|(id, r)| (id.0, *r)).unzip();
        self.execute(sql!("resolve_conditions", ids, runs, now))
            .await
            .map(drop)
    }

    async fn end_dependents(
        &mut self,
        parents: &[JobId],
        status: JobStatus,
        why: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Transition>> {
        let query = sql!("end_dependents", uuids(parents), status.as_str(), why, now);
        self.fetch(query, transition).await
    }

    async fn workflow_policies(
        &mut self,
        ids: &[WorkflowId],
    ) -> Result<HashMap<WorkflowId, FailurePolicy>> {
        let query = sql!("workflow_policies", workflow_uuids(ids));
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
        let query = sql!("set_workflow_state", workflow_uuids(ids), state.as_str());
        self.execute(query).await.map(drop)
    }

    async fn add_workflow_counts(&mut self, counts: &[WorkflowCounts]) -> Result<()> {
        self.write_finish(counts, &[], None).await
    }

    async fn finish(
        &mut self,
        counts: &[WorkflowCounts],
        queues: &[String],
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.write_finish(counts, queues, Some(now)).await
    }

    async fn cancel_job(&mut self, id: JobId, now: DateTime<Utc>) -> Result<Option<Transition>> {
        Ok(self
            .fetch(sql!("cancel_job", id.0, now), transition)
            .await?
            .pop())
    }

    async fn cancel_workflow(&mut self, id: WorkflowId) -> Result<bool> {
        self.any(sql!("cancel_workflow", id.0)).await
    }

    async fn reset_job(&mut self, id: JobId, now: DateTime<Utc>) -> Result<Option<ResetJob>> {
        let reset = self.fetch(sql!("reset_job", id.0, now), reset_job_from_row);
        Ok(reset.await?.pop())
    }

    async fn pause_queue(&mut self, queue: &str, now: DateTime<Utc>) -> Result<bool> {
        self.any(sql!("pause_queue", queue, now)).await
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
        let query = sql!("cancel_workflow_jobs", workflow_uuids(ids), why, now);
        self.fetch(query, transition).await
    }

    async fn prunable_jobs(
        &mut self,
        queue: &str,
        status: JobStatus,
        ended_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<JobId>> {
        let status = status.as_str();
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
        let counts = self.fetch(sql!("delete_jobs", uuids(ids)), pruned_from_row);
        Ok(counts.await?.pop().unwrap_or_default())
    }

    async fn mark_finished_workflows(
        &mut self,
        ids: &[WorkflowId],
        now: DateTime<Utc>,
    ) -> Result<()> {
        let query = sql!("mark_finished_workflows", workflow_uuids(ids), now);
        self.execute(query).await.map(drop)
    }

    async fn prunable_workflows(
        &mut self,
        ended_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<WorkflowId>> {
        let query = sql!("prunable_workflows", ended_before, i64::from(limit));
        self.fetch(query, workflow_id_from_row).await
    }

    async fn delete_workflows(&mut self, ids: &[WorkflowId]) -> Result<Pruned> {
        let counts = self.fetch(
            sql!("delete_workflows", workflow_uuids(ids)),
            pruned_from_row,
        );
        Ok(counts.await?.pop().unwrap_or_default())
    }

    async fn fail_expired_workflows(&mut self, now: DateTime<Utc>) -> Result<Vec<WorkflowId>> {
        self.fetch(sql!("fail_expired_workflows", now), workflow_id_from_row)
            .await
    }

    async fn reopen_workflow(&mut self, id: WorkflowId) -> Result<bool> {
        self.any(sql!("reopen_workflow", id.0)).await
    }

    async fn reset_workflow_jobs(
        &mut self,
        id: WorkflowId,
        now: DateTime<Utc>,
    ) -> Result<Vec<ResetJob>> {
        let query = sql!("reset_workflow_jobs", id.0, now);
        self.fetch(query, reset_job_from_row).await
    }

    async fn recount_dependencies(
        &mut self,
        id: WorkflowId,
        also: &[JobId],
    ) -> Result<Vec<Released>> {
        let query = sql!("recount_dependencies", id.0, uuids(also));
        self.fetch(query, released_from_row).await
    }

    async fn ended_parents(&mut self, jobs: &[JobId]) -> Result<Vec<Transition>> {
        let query = sql!("ended_parents", uuids(jobs));
        self.fetch(query, |row| transition_from_row(row, false))
            .await
    }

    async fn lock_running_attempt(&mut self, lease: Lease) -> Result<bool> {
        self.any(sql!("lock_running_attempt", lease.id.0, lease.claim))
            .await
    }

    async fn graft_children(&mut self, parent: JobId, children: &[JobId]) -> Result<Vec<JobId>> {
        let query = sql!("graft_children", parent.0, uuids(children));
        self.fetch(query, |row| job_id_from_row(row, "id")).await
    }

    async fn insert_spawn_operation(&mut self, op: &SpawnOperation) -> Result<bool> {
        let count = |n: u64| n.min(i64::MAX as u64) as i64;
        let query = sql!(
            "insert_spawn_operation",
            &op.id,
            op.parent_job_id.0,
            &op.queue_name
        )
        .bind(&op.handler)
        .bind(count(op.child_count))
        .bind(count(op.batch_count))
        .bind(&op.metadata)
        .bind(op.created_at)
        .bind(op.await_children);
        Ok(self.execute(query).await? > 0)
    }

    async fn dependents(&mut self, parents: &[JobId]) -> Result<Vec<(JobId, JobId)>> {
        let query = sql!("dependents", uuids(parents));
        self.fetch(query, |row| {
            job_id_pair_from_row(row, "parent_id", "job_id")
        })
        .await
    }

    async fn awaited_children(&mut self, parents: &[JobId]) -> Result<Vec<(JobId, JobId)>> {
        let query = sql!("awaited_children", uuids(parents));
        self.fetch(query, |row| {
            job_id_pair_from_row(row, "parent_job_id", "id")
        })
        .await
    }

    async fn mark_job_recurrence(&mut self, id: JobId, next: Option<JobId>) -> Result<bool> {
        let query = sql!("mark_job_recurrence", id.0, next.map(|n| n.0));
        Ok(self.execute(query).await? > 0)
    }

    async fn mark_workflow_recurrence(
        &mut self,
        id: WorkflowId,
        next: Option<WorkflowId>,
    ) -> Result<bool> {
        let query = sql!("mark_workflow_recurrence", id.0, next.map(|n| n.0));
        Ok(self.execute(query).await? > 0)
    }
}

/// lock_stored_parents.sql, shared.
const LOCK_PARENTS_SHARED: &str = concat!(
    include_str!("../queries/lock_stored_parents.sql"),
    "FOR SHARE\n"
);

/// lock_stored_parents.sql, exclusive (not against foreign keys).
const LOCK_PARENTS_EXCLUSIVE: &str = concat!(
    include_str!("../queries/lock_stored_parents.sql"),
    "FOR NO KEY UPDATE\n"
);

/// settle_attempts.sql, returning what it changed.
const SETTLE_ATTEMPTS: &str = concat!(
    include_str!("../queries/settle_attempts.sql"),
    " THEN true ELSE false END\n",
    "RETURNING j.id, j.status, j.workflow_id\n"
);

/// Settlements as the column arrays of settle_attempts.sql.
#[derive(Default)]
pub(crate) struct SettleColumns<'a> {
    ids: Vec<Uuid>,
    claims: Vec<i64>,
    kinds: Vec<&'static str>,
    results: Vec<Option<&'a Value>>,
    messages: Vec<Option<&'a String>>,
    retry_at: Vec<Option<DateTime<Utc>>>,
    started: Vec<Option<bool>>,
}

impl<'a> SettleColumns<'a> {
    pub(crate) fn of(settlements: &'a [Settlement]) -> Self {
        let mut c = SettleColumns::default();
        for s in settlements {
            let (kind, result, message, retry_at, started) = match &s.outcome {
                Outcome::Completed { result } => ("completed", result.as_ref(), None, None, None),
                Outcome::Failed { error, retry_at } => {
                    ("failed", None, Some(error), *retry_at, None)
                }
                Outcome::Cancelled { reason } => ("cancelled", None, Some(reason), None, None),
                Outcome::GiveBack { started } => ("given_back", None, None, None, Some(*started)),
                _ => unreachable!("every Outcome variant is handled"),
            };
            c.ids.push(s.lease.id.0);
            c.claims.push(s.lease.claim);
            c.kinds.push(kind);
            c.results.push(result);
            c.messages.push(message);
            c.retry_at.push(retry_at);
            c.started.push(started);
        }
        c
    }

    /// `query` (settle_attempts.sql and its variants) with these columns and
    /// the clock bound.
    pub(crate) fn bind(
        self,
        query: Query<'a, Postgres, PgArguments>,
        now: DateTime<Utc>,
    ) -> Query<'a, Postgres, PgArguments> {
        query
            .bind(self.ids)
            .bind(self.claims)
            .bind(self.kinds)
            .bind(self.results)
            .bind(self.messages)
            .bind(self.retry_at)
            .bind(self.started)
            .bind(now)
    }
}
