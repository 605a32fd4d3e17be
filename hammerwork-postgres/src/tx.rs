//! [`Transaction`] on PostgreSQL: each primitive is the statement of
//! `queries/<primitive>.sql`.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hammerwork_api::driver::{
    job_id_from_row, released_from_row, stored_parent_from_row, transition_from_row, FromRow,
    Param, Released, SettleRecord, Transaction, Transition, WorkflowCounts,
};
use hammerwork_api::workflow::{PlannedJob, StoredParent};
use hammerwork_api::{Job, JobId, Result, Settlement};
use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::{PgPool, Postgres};
use uuid::Uuid;

use crate::map_err::{explain_insert_error, map_err};
use crate::row::{bind_jobs, bound, fetch, uuids, ENQUEUE_CHUNK};

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

impl<'c> PgTx<'c> {
    pub(crate) fn new(
        tx: sqlx::Transaction<'c, Postgres>,
        pool: PgPool,
        channel: Arc<str>,
    ) -> Self {
        PgTx { tx, pool, channel }
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
}

#[async_trait]
impl Transaction for PgTx<'_> {
    async fn commit(self) -> Result<()> {
        self.tx.commit().await.map_err(map_err)
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
        self.write_finish(&[], queues, None).await
    }

    async fn run_script(&mut self, sql: &str) -> Result<()> {
        let conn: &mut sqlx::PgConnection = &mut self.tx;
        sqlx::Executor::execute(conn, sqlx::raw_sql(sql))
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn lock_stored_parents(&mut self, ids: &[JobId]) -> Result<Vec<(JobId, StoredParent)>> {
        // Parents already flagged as having dependents are share-locked, so
        // enqueues depending on one job run side by side. A parent to be
        // flagged is locked exclusively from the start (all of the batch's,
        // in id order): two transactions that share-locked it and then both
        // flagged it would deadlock.
        let params = [Param::Jobs(ids)];
        let unflagged = self.rows("unflagged_parents", &params, |row| row.int("unflagged"));
        let unflagged = unflagged.await?.first() == Some(&Some(1));
        let lock = if unflagged {
            LOCK_PARENTS_EXCLUSIVE
        } else {
            LOCK_PARENTS_SHARED
        };
        let query = sqlx::query(lock).bind(uuids(ids));
        let parents = fetch(&mut *self.tx, query, stored_parent_from_row).await?;
        if unflagged {
            self.run("lock_stored_parents_mark", &params).await?;
        }
        Ok(parents)
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

    async fn settle_attempts(
        &mut self,
        settlements: &[Settlement],
        now: DateTime<Utc>,
    ) -> Result<Vec<Transition>> {
        let c = SettleColumns::of(settlements)?;
        fetch(
            &mut *self.tx,
            c.bind(sqlx::query(SETTLE_ATTEMPTS), now),
            |row| transition_from_row(row, false),
        )
        .await
    }

    async fn release_dependents(&mut self, parents: &[JobId]) -> Result<Vec<Released>> {
        // Two statements, not one join: with the edge counts as a literal
        // list the planner updates dependents by primary key, never by a scan.
        let query = sql!("release_dependents_edges", uuids(parents));
        let edges = fetch(&mut *self.tx, query, |row| {
            Ok((
                job_id_from_row(row, "job_id")?.0,
                row.int("n")?.unwrap_or(0) as i32,
            ))
        });
        let edges = edges.await?;
        if edges.is_empty() {
            return Ok(Vec::new());
        }
        let (dependents, counts): (Vec<Uuid>, Vec<i32>) = edges.into_iter().unzip();
        let query = sql!("release_dependents", dependents, counts);
        fetch(&mut *self.tx, query, released_from_row).await
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

/// Settlements as the column arrays of settle_attempts.sql, each flattened
/// as [`SettleRecord`] flattens it.
pub(crate) struct SettleColumns<'a> {
    ids: Vec<Uuid>,
    claims: Vec<i64>,
    kinds: Vec<&'static str>,
    results: Vec<Option<String>>,
    messages: Vec<Option<&'a str>>,
    retry_at: Vec<Option<i64>>,
    started: Vec<Option<bool>>,
}

impl<'a> SettleColumns<'a> {
    pub(crate) fn of(settlements: &'a [Settlement]) -> Result<Self> {
        let n = settlements.len();
        let mut c = SettleColumns {
            ids: Vec::with_capacity(n),
            claims: Vec::with_capacity(n),
            kinds: Vec::with_capacity(n),
            results: Vec::with_capacity(n),
            messages: Vec::with_capacity(n),
            retry_at: Vec::with_capacity(n),
            started: Vec::with_capacity(n),
        };
        for s in settlements {
            let r = SettleRecord::new(s)?;
            c.ids.push(r.id);
            c.claims.push(r.claim);
            c.kinds.push(r.kind);
            c.results.push(r.result);
            c.messages.push(r.message);
            c.retry_at.push(r.retry_at);
            c.started.push(r.started);
        }
        Ok(c)
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
