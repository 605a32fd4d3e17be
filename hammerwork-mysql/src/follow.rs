//! What a job reaching an end state does to the jobs that depend on it and to
//! its workflow, inside the caller's transaction (see
//! `docs/design/workflows.md`).
//!
//! MySQL cannot update a table while a subquery of the same statement reads
//! it, and a trigger (the workflow counters) cannot change a table its
//! statement reads: so each step selects the ids it needs first, then updates
//! them by id list (a JSON array read with `JSON_TABLE`).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use hammerwork_api::workflow::{
    condition_context, killed_in_other_workflows, plan_failures, Condition, FailurePolicy,
};
use hammerwork_api::{Error, Result};
use serde_json::{json, Value};
use sqlx::mysql::MySqlRow;
use sqlx::{MySqlConnection, Row};
use uuid::Uuid;

use crate::batch::{hex, id_array};
use crate::map_err::map_err;
use crate::row::{json, required_text};

/// Jobs that just reached an end state and whose dependents or workflow must
/// follow.
#[derive(Default)]
pub(crate) struct Finished {
    completed: Vec<Uuid>,
    dead: Vec<(Uuid, Option<Uuid>)>,
    skipped: Vec<Uuid>,
    cancelled: Vec<Uuid>,
}

impl Finished {
    /// Only cancelled jobs.
    pub(crate) fn cancelled(ids: Vec<Uuid>) -> Self {
        Finished {
            cancelled: ids,
            ..Finished::default()
        }
    }

    /// Jobs written already ended (their dependency ended so, or their
    /// condition was false) that have dependents all the same: spawned
    /// children grafted onto the waiting dependents of their parent.
    pub(crate) fn ended_at_once(
        dead: Vec<(Uuid, Option<Uuid>)>,
        skipped: Vec<Uuid>,
        cancelled: Vec<Uuid>,
    ) -> Self {
        Finished {
            dead,
            skipped,
            cancelled,
            ..Finished::default()
        }
    }

    /// Collects `id, status, workflow_id, has_dependents` rows (finished_jobs.sql),
    /// keeping only the jobs with something to follow.
    pub(crate) fn add_rows(&mut self, rows: &[MySqlRow]) -> Result<()> {
        for row in rows {
            let id: Uuid = row.try_get("id").map_err(Error::backend)?;
            let workflow: Option<Uuid> = row.try_get("workflow_id").map_err(Error::backend)?;
            let has_dependents = row
                .try_get::<i8, _>("has_dependents")
                .map_err(Error::backend)?
                != 0;
            match required_text(row, "status")?.as_str() {
                "completed" if has_dependents => self.completed.push(id),
                "dead" if has_dependents || workflow.is_some() => self.dead.push((id, workflow)),
                "cancelled" if has_dependents => self.cancelled.push(id),
                _ => {}
            }
        }
        Ok(())
    }

    fn is_empty(&self) -> bool {
        self.completed.is_empty()
            && self.dead.is_empty()
            && self.skipped.is_empty()
            && self.cancelled.is_empty()
    }
}

/// Moves the dependents of finished jobs on: releases (or skips, by
/// condition) the dependents of completed jobs, skips the dependents of
/// skipped ones, applies failure policies for dead ones, cancels the
/// dependents of cancelled ones. Returns the queues that got claimable jobs,
/// to wake once the transaction commits.
pub(crate) async fn follow_dependents(
    conn: &mut MySqlConnection,
    mut finished: Finished,
    now: DateTime<Utc>,
) -> Result<HashSet<String>> {
    let mut wake = HashSet::new();
    if finished.is_empty() {
        return Ok(wake);
    }
    let mut skipped = std::mem::take(&mut finished.skipped);
    if !finished.completed.is_empty() {
        finished.completed.sort_unstable();
        skipped.extend(release(conn, &finished.completed, now, &mut wake).await?);
    }
    if !skipped.is_empty() {
        propagate(conn, &skipped, "skipped", "a dependency was skipped", now).await?;
    }
    if !finished.dead.is_empty() {
        apply_failure_policies(conn, &finished.dead, now).await?;
    }
    if !finished.cancelled.is_empty() {
        propagate(
            conn,
            &finished.cancelled,
            "cancelled",
            "a dependency was cancelled",
            now,
        )
        .await?;
    }
    Ok(wake)
}

/// Counts completed parents off their waiting dependents; a dependent at
/// zero is satisfied, or has its condition evaluated against its parents'
/// results: true -> satisfied, false -> skipped. Returns the skipped ids;
/// adds the queues of released jobs to `wake`.
async fn release(
    conn: &mut MySqlConnection,
    parents: &[Uuid],
    now: DateTime<Utc>,
    wake: &mut HashSet<String>,
) -> Result<Vec<Uuid>> {
    let rows = sqlx::query(include_str!("../queries/dependents_to_release.sql"))
        .bind(id_array(parents.iter().copied()))
        .fetch_all(&mut *conn)
        .await
        .map_err(map_err)?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    // (id, queue, pending left, condition)
    let mut dependents = Vec::with_capacity(rows.len());
    for row in &rows {
        let id: Uuid = row.try_get("id").map_err(Error::backend)?;
        let pending: i32 = row
            .try_get("pending_dependencies")
            .map_err(Error::backend)?;
        let n: i64 = row.try_get("n").map_err(Error::backend)?;
        let condition = crate::row::text(row, "condition")?;
        let left = i64::from(pending) - n;
        dependents.push((
            id,
            required_text(row, "queue_name")?,
            i32::try_from(left.max(0)).unwrap_or(0),
            condition,
        ));
    }
    let conditional: Vec<Uuid> = dependents
        .iter()
        .filter(|(_, _, left, condition)| *left == 0 && condition.is_some())
        .map(|(id, ..)| *id)
        .collect();
    let results = if conditional.is_empty() {
        HashMap::new()
    } else {
        parent_results(conn, &conditional).await?
    };
    let mut skipped = Vec::new();
    let mut decisions = Vec::with_capacity(dependents.len());
    for (id, queue, left, condition) in dependents {
        let (status, skip) = if left > 0 {
            ("waiting", false)
        } else {
            let runs = condition.as_deref().is_none_or(|condition| {
                // Parsed when enqueued, so a parse error here means the row was
                // edited by hand: treat it as false rather than run the job.
                let context = condition_context(results.get(&id).into_iter().flatten());
                Condition::parse(condition).is_ok_and(|c| c.evaluate(&context))
            });
            if runs {
                wake.insert(queue);
            } else {
                skipped.push(id);
            }
            ("satisfied", !runs)
        };
        decisions.push(json!({
            "id": hex(id),
            "pending": left,
            "dependency_status": status,
            "skip": i32::from(skip),
        }));
    }
    sqlx::query(include_str!("../queries/apply_releases.sql"))
        .bind(Value::Array(decisions).to_string())
        .bind(now)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    Ok(skipped)
}

/// The parents' results of `jobs`, per job.
async fn parent_results(
    conn: &mut MySqlConnection,
    jobs: &[Uuid],
) -> Result<HashMap<Uuid, Vec<Value>>> {
    let rows = sqlx::query(include_str!("../queries/parent_results.sql"))
        .bind(id_array(jobs.iter().copied()))
        .fetch_all(&mut *conn)
        .await
        .map_err(map_err)?;
    let mut results: HashMap<Uuid, Vec<Value>> = HashMap::new();
    for row in &rows {
        let job: Uuid = row.try_get("job_id").map_err(Error::backend)?;
        results.entry(job).or_default().extend(json(row, "result")?);
    }
    Ok(results)
}

/// Ends every transitive dependent of `parents` that has not started as
/// `status`, with its dependency marked failed. Returns the jobs it ended,
/// with their workflows.
///
/// A dependent enqueued concurrently under a job of the walk (the enqueue
/// locks that parent and inserts the edge) can be missed by the walk, which
/// reads the edges without waiting for locks; ending that parent waits for the
/// enqueue to commit, though. So each round walks again from the jobs the
/// previous round ended, in a new statement that sees the committed edges,
/// until a round ends nothing. After the first round, a walk only finds such
/// new dependents: the others were ended already.
///
/// MySQL has no `UPDATE ... RETURNING`: the jobs a round ends are locked
/// (in id order) and read first, then ended by id.
async fn propagate(
    conn: &mut MySqlConnection,
    parents: &[Uuid],
    status: &str,
    why: &str,
    now: DateTime<Utc>,
) -> Result<Vec<(Uuid, Option<Uuid>)>> {
    let mut ended = Vec::new();
    let mut from = parents.to_vec();
    loop {
        let down: Vec<Uuid> =
            sqlx::query_scalar(include_str!("../queries/transitive_dependents.sql"))
                .bind(id_array(from.iter().copied()))
                .fetch_all(&mut *conn)
                .await
                .map_err(map_err)?;
        if down.is_empty() {
            return Ok(ended);
        }
        let rows = sqlx::query(include_str!("../queries/lock_dependents_to_end.sql"))
            .bind(id_array(down.iter().copied()))
            .fetch_all(&mut *conn)
            .await
            .map_err(map_err)?;
        if rows.is_empty() {
            return Ok(ended);
        }
        let mut ending = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: Uuid = row.try_get("id").map_err(Error::backend)?;
            ending.push(id);
            ended.push((id, row.try_get("workflow_id").map_err(Error::backend)?));
        }
        // Locked above, so every one of them is still unstarted and ends.
        sqlx::query(include_str!("../queries/end_dependents.sql"))
            .bind(id_array(ending))
            .bind(status)
            .bind(why)
            .bind(now)
            .execute(&mut *conn)
            .await
            .map_err(map_err)?;
        from = down;
    }
}

/// Applies each dead job's workflow failure policy (outside a workflow, its
/// dependents die with it, as under `ContinueOnFailure`).
pub(crate) async fn apply_failure_policies(
    conn: &mut MySqlConnection,
    dead: &[(Uuid, Option<Uuid>)],
    now: DateTime<Utc>,
) -> Result<()> {
    let workflow_ids: HashSet<Uuid> = dead.iter().filter_map(|(_, w)| *w).collect();
    let mut policies: HashMap<Uuid, FailurePolicy> = HashMap::new();
    if !workflow_ids.is_empty() {
        let rows = sqlx::query(include_str!("../queries/workflow_policies.sql"))
            .bind(id_array(workflow_ids))
            .fetch_all(&mut *conn)
            .await
            .map_err(map_err)?;
        for row in &rows {
            let id: Uuid = row.try_get("id").map_err(Error::backend)?;
            policies.insert(id, required_text(row, "failure_policy")?.parse()?);
        }
    }
    let plan = plan_failures(dead, &policies);
    if !plan.cascade.is_empty() {
        let killed = propagate(conn, &plan.cascade, "dead", "a dependency failed", now).await?;
        let others = killed_in_other_workflows(killed, &policies);
        if !others.is_empty() {
            Box::pin(apply_failure_policies(conn, &others, now)).await?;
        }
    }
    if !plan.fail_fast.is_empty() {
        set_workflow_state(conn, &plan.fail_fast, "failed").await?;
        cancel_unfinished(
            conn,
            &plan.fail_fast,
            "cancelled: another job of the workflow failed",
            now,
        )
        .await?;
    }
    if !plan.pause.is_empty() {
        set_workflow_state(conn, &plan.pause, "paused").await?;
    }
    Ok(())
}

/// Sets the state of these workflows, unless they already ended.
pub(crate) async fn set_workflow_state(
    conn: &mut MySqlConnection,
    workflows: &[Uuid],
    state: &str,
) -> Result<()> {
    sqlx::query(include_str!("../queries/set_workflow_state.sql"))
        .bind(id_array(workflows.iter().copied()))
        .bind(state)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    Ok(())
}

/// Cancels every unfinished job of these workflows, the unfinished spawned
/// jobs outside them that one of their jobs awaits (children grafted onto a
/// held stage, see `graft_children`), and the jobs outside them that
/// (transitively) wait on one. Returns how many jobs it cancelled directly
/// (the propagation not counted).
///
/// The workflows' jobs are locked first (by workflow), then the awaited
/// spawned jobs (by edge, in a new statement): a graft holding one of the
/// workflows' jobs has committed by then, so its children are seen too.
pub(crate) async fn cancel_unfinished(
    conn: &mut MySqlConnection,
    workflows: &[Uuid],
    why: &str,
    now: DateTime<Utc>,
) -> Result<u64> {
    let mut rows = sqlx::query(include_str!("../queries/unfinished_jobs.sql"))
        .bind(id_array(workflows.iter().copied()))
        .fetch_all(&mut *conn)
        .await
        .map_err(map_err)?;
    rows.extend(
        sqlx::query(include_str!("../queries/awaited_children_unfinished.sql"))
            .bind(id_array(workflows.iter().copied()))
            .fetch_all(&mut *conn)
            .await
            .map_err(map_err)?,
    );
    if rows.is_empty() {
        return Ok(0);
    }
    let mut ids = Vec::with_capacity(rows.len());
    let mut parents = Vec::new();
    for row in &rows {
        let id: Uuid = row.try_get("id").map_err(Error::backend)?;
        let has_dependents = row
            .try_get::<i8, _>("has_dependents")
            .map_err(Error::backend)?
            != 0;
        ids.push(id);
        if has_dependents {
            parents.push(id);
        }
    }
    // Disjoint sets (the awaited jobs belong to no workflow), so sorting
    // leaves no duplicates; the array order is the update's lock order.
    ids.sort_unstable();
    parents.sort_unstable();
    // All locked above, so all of them are still unfinished.
    let done = sqlx::query(include_str!("../queries/cancel_unfinished.sql"))
        .bind(id_array(ids))
        .bind(why)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    if !parents.is_empty() {
        propagate(
            conn,
            &parents,
            "cancelled",
            "a dependency was cancelled",
            now,
        )
        .await?;
    }
    Ok(done.rows_affected())
}
