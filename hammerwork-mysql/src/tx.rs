//! [`Transaction`] on MySQL / MariaDB. MySQL has no `UPDATE ... RETURNING`,
//! so a primitive that must report the rows it changes locks and reads them
//! first (`queries/<primitive>.sql`, in id order), then changes exactly those
//! by id (`<primitive>_apply.sql`), or reads them back after (transitions.sql).

use std::collections::HashSet;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hammerwork_api::driver::{
    job_id_from_row, reset_job_from_row, stored_parent_from_row, transition_from_row,
    workflow_id_from_row, FromRow, Param, Released, ResetJob, SettleRecord, StoredRow, Transaction,
    Transition, EDGE_CHUNK,
};
use hammerwork_api::retention::Pruned;
use hammerwork_api::spawn::SpawnOperation;
use hammerwork_api::workflow::{PlannedJob, StoredParent};
use hammerwork_api::{Job, JobId, JobStatus, Result, Settlement, WorkflowId, WorkflowStatus};
use serde_json::{json, Value};
use sqlx::mysql::MySqlArguments;
use sqlx::query::Query;
use sqlx::MySql;

use hammerwork_engine::LocalWakeups;

use crate::insert;
use crate::keyed::Keyed;
use crate::map_err::{error_number, explain_insert_error, map_err, ER_DUP_ENTRY};
use crate::row::{at, bound, fetch, hex, hex_ids, hex_list};

/// rescue_expired_jobs.sql, by key.
static RESCUE_EXPIRED_JOBS: Keyed = Keyed::new(include_str!("../queries/rescue_expired_jobs.sql"));

/// A transaction of [`MySqlDriver`] (READ COMMITTED), or a savepoint in the
/// caller's own transaction. Wakeups go out after commit, to this process's
/// listeners.
pub struct MySqlTx<'c> {
    tx: sqlx::Transaction<'c, MySql>,
    /// `None` inside the caller's transaction: its commit is not ours to see.
    wakeups: Option<LocalWakeups>,
    wake: Vec<String>,
}

fn transition(row: &dyn StoredRow) -> Result<Transition> {
    transition_from_row(row, true)
}

fn workflow_hex(ids: &[WorkflowId]) -> String {
    hex_list(ids.iter().map(|id| id.0))
}

impl<'c> MySqlTx<'c> {
    pub(crate) fn new(tx: sqlx::Transaction<'c, MySql>, wakeups: Option<LocalWakeups>) -> Self {
        let wake = Vec::new();
        MySqlTx { tx, wakeups, wake }
    }

    /// Runs `query`; how many rows it changed.
    async fn execute<'q>(&mut self, query: Query<'q, MySql, MySqlArguments>) -> Result<u64> {
        let done = query.execute(&mut *self.tx).await.map_err(map_err)?;
        Ok(done.rows_affected())
    }

    /// Where the (locked) jobs `ids` ended up.
    async fn transitions(&mut self, ids: &[JobId]) -> Result<Vec<Transition>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        fetch(&mut *self.tx, sql!("transitions", hex_ids(ids)), transition).await
    }
}

#[async_trait]
impl Transaction for MySqlTx<'_> {
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

    async fn rows<T: Send + 'static>(
        &mut self,
        name: &'static str,
        params: &[Param<'_>],
        from_row: FromRow<T>,
    ) -> Result<Vec<T>> {
        fetch(&mut *self.tx, bound(name, params)?, from_row).await
    }

    async fn run(&mut self, name: &'static str, params: &[Param<'_>]) -> Result<u64> {
        self.execute(bound(name, params)?).await
    }

    async fn wake(&mut self, queues: &[String]) -> Result<()> {
        self.wake.extend_from_slice(queues);
        Ok(())
    }

    async fn run_script(&mut self, sql: &str) -> Result<()> {
        let conn: &mut sqlx::MySqlConnection = &mut self.tx;
        sqlx::Executor::execute(conn, sqlx::raw_sql(sql))
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn lock_stored_parents(&mut self, ids: &[JobId]) -> Result<Vec<(JobId, StoredParent)>> {
        let query = sql!("lock_stored_parents", hex_ids(ids));
        let parents = fetch(&mut *self.tx, query, stored_parent_from_row).await?;
        // Settling them follows the edge table from now on.
        self.execute(sql!("lock_stored_parents_mark", hex_ids(ids)))
            .await?;
        Ok(parents)
    }

    async fn insert_jobs(
        &mut self,
        jobs: &[Job],
        plans: &[PlannedJob],
        now: DateTime<Utc>,
    ) -> Result<()> {
        let rows = insert::rows(jobs, plans)?;
        for chunk in insert::chunks(&rows) {
            let query = insert::query(&rows[chunk.clone()], now);
            if let Err(err) = query.execute(&mut *self.tx).await {
                // Earlier chunks of the batch are in: look for the id in this one.
                return Err(explain_insert_error(&mut self.tx, &jobs[chunk], err).await);
            }
        }
        Ok(())
    }

    async fn settle_attempts(
        &mut self,
        settlements: &[Settlement],
        now: DateTime<Utc>,
    ) -> Result<Vec<Transition>> {
        let outcomes = SettleRecord::encode(settlements)?;
        let current = fetch(
            &mut *self.tx,
            sql!("settle_attempts_lock", &outcomes),
            |row| job_id_from_row(row, "id"),
        )
        .await?;
        if current.is_empty() {
            return Ok(Vec::new());
        }
        self.execute(sql!("settle_attempts", &outcomes, at(now)))
            .await?;
        self.transitions(&current).await
    }

    async fn rescue_expired_jobs(
        &mut self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Transition>> {
        let candidates = sql!("rescue_candidates", at(now), limit);
        let candidates = fetch(&mut *self.tx, candidates, |row| job_id_from_row(row, "id")).await?;
        let mut expired = Vec::new();
        for query in RESCUE_EXPIRED_JOBS.over(&candidates, |q| q.bind(at(now))) {
            expired.extend(fetch(&mut *self.tx, query, |row| job_id_from_row(row, "id")).await?);
        }
        if expired.is_empty() {
            return Ok(Vec::new());
        }
        let query = sql!(
            "rescue_expired_jobs_apply",
            hex_ids(&expired),
            at(now),
            at(now)
        );
        self.execute(query).await?;
        self.transitions(&expired).await
    }

    async fn release_dependents(&mut self, parents: &[JobId]) -> Result<Vec<Released>> {
        let released = fetch(
            &mut *self.tx,
            sql!("release_dependents", hex_ids(parents)),
            |row| {
                let pending = row.int("pending_dependencies")?.unwrap_or(0);
                let left = (pending - row.int("n")?.unwrap_or(0)).max(0) as i32;
                Ok(Released::new(
                    job_id_from_row(row, "id")?,
                    row.uuid("workflow_id")?.map(WorkflowId),
                    row.text("queue_name")?.unwrap_or_default(),
                    left,
                    row.text("condition")?,
                ))
            },
        )
        .await?;
        if !released.is_empty() {
            let counts: Vec<_> = released
                .iter()
                .map(|r| json!({"id": hex(r.id.0), "pending": r.pending_dependencies}))
                .collect();
            let query = sql!("release_dependents_apply", json!(counts).to_string());
            self.execute(query).await?;
        }
        Ok(released)
    }

    async fn end_dependents(
        &mut self,
        parents: &[JobId],
        status: JobStatus,
        why: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Transition>> {
        // Walk the edges without waiting for locks, then lock what is still
        // unstarted (in id order) and end exactly that.
        let walk = sql!("end_dependents_walk", hex_ids(parents));
        let down = fetch(&mut *self.tx, walk, |row| job_id_from_row(row, "id")).await?;
        if down.is_empty() {
            return Ok(Vec::new());
        }
        let ending = fetch(
            &mut *self.tx,
            sql!("end_dependents_lock", hex_ids(&down)),
            |row| {
                let id = job_id_from_row(row, "id")?;
                Ok(Transition::new(
                    id,
                    row.uuid("workflow_id")?.map(WorkflowId),
                    status,
                ))
            },
        )
        .await?;
        if !ending.is_empty() {
            let ids = hex_ids(ending.iter().map(|t| &t.id));
            let query = sql!("end_dependents", ids, status.as_str(), why, at(now));
            self.execute(query).await?;
        }
        Ok(ending)
    }

    async fn cancel_job(&mut self, id: JobId, now: DateTime<Utc>) -> Result<Option<Transition>> {
        if self.execute(sql!("cancel_job", at(now), id.0)).await? == 0 {
            return Ok(None);
        }
        Ok(self.transitions(&[id]).await?.pop())
    }

    async fn reset_job(&mut self, id: JobId, now: DateTime<Utc>) -> Result<Option<ResetJob>> {
        let found = fetch(&mut *self.tx, sql!("reset_job", id.0), reset_job_from_row);
        let Some(job) = found.await?.pop() else {
            return Ok(None);
        };
        let ids = hex_ids([&job.id]);
        self.execute(sql!("reset_workflow_jobs_apply", ids, at(now)))
            .await?;
        Ok(Some(job))
    }

    async fn pause_queue(&mut self, queue: &str, now: DateTime<Utc>) -> Result<bool> {
        let name = queue.as_bytes();
        self.execute(sql!("pause_queue_row", name)).await?;
        Ok(self.execute(sql!("pause_queue", at(now), name)).await? > 0)
    }

    async fn cancel_workflow_jobs(
        &mut self,
        ids: &[WorkflowId],
        why: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Transition>> {
        let cancelled = |row: &dyn StoredRow| {
            let workflow = row.uuid("workflow_id")?.map(WorkflowId);
            let t = Transition::new(job_id_from_row(row, "id")?, workflow, JobStatus::Cancelled);
            Ok(t.with_dependents(row.int("has_dependents")? != Some(0)))
        };
        // The workflows' jobs first; then, in a new statement that sees a
        // graft onto one of them committed meanwhile, the children they await.
        let ids = workflow_hex(ids);
        let mut found = fetch(&mut *self.tx, sql!("cancel_workflow_jobs", &ids), cancelled).await?;
        found.extend(
            fetch(
                &mut *self.tx,
                sql!("cancel_workflow_jobs_awaited", &ids),
                cancelled,
            )
            .await?,
        );
        if !found.is_empty() {
            // Disjoint sets (awaited jobs belong to no workflow): sorting
            // leaves no duplicate, and the array order is the update's lock order.
            found.sort_unstable_by_key(|t| t.id);
            let targets = hex_ids(found.iter().map(|t| &t.id));
            let query = sql!("cancel_workflow_jobs_apply", targets, why, at(now));
            self.execute(query).await?;
        }
        Ok(found)
    }

    async fn delete_jobs(&mut self, ids: &[JobId]) -> Result<Pruned> {
        let kept = fetch(
            &mut *self.tx,
            sql!("delete_jobs_kept", hex_ids(ids)),
            |row| job_id_from_row(row, "id"),
        );
        let kept: HashSet<JobId> = kept.await?.into_iter().collect();
        let doomed: Vec<&JobId> = ids.iter().filter(|id| !kept.contains(id)).collect();
        if doomed.is_empty() {
            return Ok(Pruned::default());
        }
        let ids = hex_ids(doomed);
        self.execute(sql!("delete_jobs_edges", &ids)).await?;
        let spawn_operations = self.execute(sql!("delete_jobs_operations", &ids)).await?;
        let jobs = self.execute(sql!("delete_jobs", &ids)).await?;
        Ok(Pruned {
            jobs,
            workflows: 0,
            spawn_operations,
        })
    }

    async fn delete_workflows(&mut self, ids: &[WorkflowId]) -> Result<Pruned> {
        let workflows = workflow_hex(ids);
        let jobs = fetch(
            &mut *self.tx,
            sql!("delete_workflows_jobs", &workflows),
            |row| job_id_from_row(row, "id"),
        );
        let jobs = hex_ids(&jobs.await?);
        self.execute(sql!("delete_jobs_edges", &jobs)).await?;
        self.execute(sql!("delete_jobs_parent_edges", &jobs))
            .await?;
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
        let expired = fetch(
            &mut *self.tx,
            sql!("fail_expired_workflows", at(now)),
            workflow_id_from_row,
        )
        .await?;
        if !expired.is_empty() {
            self.set_workflow_state(&expired, WorkflowStatus::Failed)
                .await?;
        }
        Ok(expired)
    }

    async fn reopen_workflow(&mut self, id: WorkflowId) -> Result<bool> {
        if fetch(&mut *self.tx, sql!("reopen_workflow", id.0), |_| Ok(()))
            .await?
            .is_empty()
        {
            return Ok(false);
        }
        self.execute(sql!("reopen_workflow_apply", id.0)).await?;
        Ok(true)
    }

    async fn reset_workflow_jobs(
        &mut self,
        id: WorkflowId,
        now: DateTime<Utc>,
    ) -> Result<Vec<ResetJob>> {
        let query = sql!("reset_workflow_jobs", id.0);
        let mut found = fetch(&mut *self.tx, query, reset_job_from_row).await?;
        // The spawned jobs a held stage awaits start over too (they belong to
        // no workflow, so the two sets are disjoint).
        let awaited = sql!("reset_workflow_jobs_awaited", id.0);
        found.extend(fetch(&mut *self.tx, awaited, reset_job_from_row).await?);
        found.sort_unstable_by_key(|job| job.id);
        if !found.is_empty() {
            let ids = hex_ids(found.iter().map(|job| &job.id));
            self.execute(sql!("reset_workflow_jobs_apply", ids, at(now)))
                .await?;
        }
        Ok(found)
    }

    async fn recount_dependencies(
        &mut self,
        id: WorkflowId,
        also: &[JobId],
    ) -> Result<Vec<Released>> {
        let recounted = fetch(
            &mut *self.tx,
            sql!("recount_dependencies", id.0, hex_ids(also)),
            |row| {
                Ok(Released::new(
                    job_id_from_row(row, "job_id")?,
                    row.uuid("workflow_id")?.map(WorkflowId),
                    row.text("queue_name")?.unwrap_or_default(),
                    row.int("open_parents")?.unwrap_or(0) as i32,
                    row.text("condition")?,
                ))
            },
        )
        .await?;
        if !recounted.is_empty() {
            let counts: Vec<_> = recounted
                .iter()
                .map(|r| {
                    let conditional = i32::from(r.condition.is_some());
                    json!({"id": hex(r.id.0), "open": r.pending_dependencies, "conditional": conditional})
                })
                .collect();
            let query = sql!("recount_dependencies_apply", json!(counts).to_string());
            self.execute(query).await?;
        }
        Ok(recounted)
    }

    async fn graft_children(&mut self, parent: JobId, children: &[JobId]) -> Result<Vec<JobId>> {
        let held_rows = sql!("graft_children_held", parent.0);
        let held = fetch(&mut *self.tx, held_rows, |row| job_id_from_row(row, "id")).await?;
        if held.is_empty() {
            return Ok(held);
        }
        let held_ids = hex_ids(&held);
        for chunk in children.chunks((EDGE_CHUNK / held.len()).max(1)) {
            let query = sql!("graft_children_edges", hex_ids(chunk), &held_ids);
            self.execute(query).await?;
        }
        let n = i32::try_from(children.len()).unwrap_or(i32::MAX);
        self.execute(sql!("graft_children", &held_ids, n)).await?;
        Ok(held)
    }

    async fn insert_spawn_operation(&mut self, op: &SpawnOperation) -> Result<bool> {
        let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let metadata = op.metadata.as_ref().map(Value::to_string);
        let query = sql!(
            "insert_spawn_operation",
            op.id.as_bytes(),
            op.parent_job_id.0
        )
        .bind(op.queue_name.as_bytes())
        .bind(&op.handler)
        .bind(count(op.child_count))
        .bind(count(op.batch_count))
        .bind(metadata)
        .bind(at(op.created_at))
        .bind(op.await_children);
        match query.execute(&mut *self.tx).await {
            Ok(_) => Ok(true),
            Err(err) if error_number(&err) == Some(ER_DUP_ENTRY) => Ok(false),
            Err(err) => Err(map_err(err)),
        }
    }
}
