use std::time::Duration;

use hammerwork_api::workflow::{FailurePolicy, JobGroup, WorkflowId, WorkflowStatus};
use hammerwork_api::{
    DatabaseQueue, DependencyStatus, Error, Job, JobId, JobStatus, ListJobsParams, Storage,
};
use serde_json::json;

use crate::support::{claim_all, complete, fail_permanently, now, secs};

async fn status_of<S: Storage>(storage: &S, id: JobId) -> JobStatus {
    storage
        .get_job(id)
        .await
        .unwrap()
        .expect("job exists")
        .status
}

async fn workflow_status<S: Storage>(storage: &S, id: WorkflowId) -> WorkflowStatus {
    storage.get_workflow_status(id).await.unwrap()
}

/// FailFast: one job dying cancels every unfinished job of the workflow, and
/// the workflow is `Failed`.
pub async fn workflow_fail_fast_cancels_the_rest<S: Storage>(storage: S) {
    let (a, b, c) = (
        Job::new("ff", json!("a")),
        Job::new("ff", json!("b")),
        Job::new("ff", json!("c")),
    );
    let after = Job::new("ff", json!("after"));
    let group = JobGroup::new("ff")
        .add_parallel_jobs(vec![a.clone(), b.clone(), c.clone()])
        .then(after.clone())
        .with_failure_policy(FailurePolicy::FailFast);
    let id = storage.enqueue_workflow(group).await.unwrap();
    let running = claim_all(&storage, "ff").await;
    assert_eq!(running.len(), 3);
    let failing = running.iter().find(|j| j.id == a.id).unwrap();
    fail_permanently(&storage, failing).await;

    assert_eq!(workflow_status(&storage, id).await, WorkflowStatus::Failed);
    for other in [b.id, c.id, after.id] {
        assert_eq!(
            status_of(&storage, other).await,
            JobStatus::Cancelled,
            "FailFast left a job unfinished"
        );
    }
    // The still-running attempts' outcomes are ignored.
    let late = running.iter().find(|j| j.id == b.id).unwrap();
    let changed = storage
        .settle_jobs(
            &[hammerwork_api::Settlement::new(
                hammerwork_api::Lease::of(late),
                hammerwork_api::Outcome::Completed { result: None },
            )],
            now(),
        )
        .await
        .unwrap();
    assert_eq!(changed, 0);
    let stats = storage.get_workflow_stats(id).await.unwrap();
    assert_eq!(
        (
            stats.failed_jobs,
            stats.cancelled_jobs,
            stats.pending_jobs,
            stats.running_jobs
        ),
        (1, 3, 0, 0)
    );
}

/// ContinueOnFailure: the failed job's dependents fail, an independent branch
/// runs to the end, and the workflow ends `Failed`.
pub async fn workflow_continue_on_failure_runs_independent_branch<S: Storage>(storage: S) {
    let a = Job::new("cof", json!("a"));
    let a_next = Job::new("cof", json!("a_next")).depends_on(&a.id);
    let a_last = Job::new("cof", json!("a_last")).depends_on(&a_next.id);
    let b = Job::new("cof", json!("b"));
    let b_next = Job::new("cof", json!("b_next")).depends_on(&b.id);
    let group = JobGroup::new("cof")
        .add_parallel_jobs(vec![
            a.clone(),
            a_next.clone(),
            a_last.clone(),
            b.clone(),
            b_next.clone(),
        ])
        .with_failure_policy(FailurePolicy::ContinueOnFailure);
    let id = storage.enqueue_workflow(group).await.unwrap();
    for job in claim_all(&storage, "cof").await {
        if job.id == a.id {
            fail_permanently(&storage, &job).await;
        }
    }
    for dependent in [a_next.id, a_last.id] {
        let job = storage.get_job(dependent).await.unwrap().unwrap();
        assert_eq!(
            (job.status, job.dependency_status),
            (JobStatus::Dead, DependencyStatus::Failed)
        );
    }
    assert_eq!(
        status_of(&storage, b.id).await,
        JobStatus::Running,
        "the independent branch was touched"
    );
    assert_eq!(workflow_status(&storage, id).await, WorkflowStatus::Running);
    let b_claimed = storage.get_job(b.id).await.unwrap().unwrap();
    complete(&storage, &b_claimed, None).await;
    let next = claim_all(&storage, "cof").await;
    assert_eq!(
        next.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![b_next.id]
    );
    complete(&storage, &next[0], None).await;
    assert_eq!(workflow_status(&storage, id).await, WorkflowStatus::Failed);
    let stats = storage.get_workflow_stats(id).await.unwrap();
    assert_eq!((stats.completed_jobs, stats.failed_jobs), (2, 3));
}

/// Manual: a failure pauses the workflow with its dependents waiting; a retry
/// re-runs the failed job and the workflow completes.
pub async fn workflow_manual_pauses_then_retry_completes<S: Storage>(storage: S) {
    let a = Job::new("manual", json!("a")).with_max_attempts(1);
    let b = Job::new("manual", json!("b"));
    let group = JobGroup::new("manual")
        .add_job(a.clone())
        .then(b.clone())
        .with_failure_policy(FailurePolicy::Manual);
    let id = storage.enqueue_workflow(group).await.unwrap();
    let first = claim_all(&storage, "manual").await;
    fail_permanently(&storage, &first[0]).await;
    assert_eq!(workflow_status(&storage, id).await, WorkflowStatus::Paused);
    let waiting = storage.get_job(b.id).await.unwrap().unwrap();
    assert_eq!(
        (waiting.status, waiting.dependency_status),
        (JobStatus::Pending, DependencyStatus::Waiting)
    );
    assert!(claim_all(&storage, "manual").await.is_empty());

    assert!(storage.retry_workflow(id).await.unwrap() >= 1);
    assert_eq!(workflow_status(&storage, id).await, WorkflowStatus::Running);
    let again = claim_all(&storage, "manual").await;
    assert_eq!(again.iter().map(|j| j.id).collect::<Vec<_>>(), vec![a.id]);
    complete(&storage, &again[0], None).await;
    let next = claim_all(&storage, "manual").await;
    assert_eq!(next.iter().map(|j| j.id).collect::<Vec<_>>(), vec![b.id]);
    complete(&storage, &next[0], None).await;
    assert_eq!(
        workflow_status(&storage, id).await,
        WorkflowStatus::Completed
    );
}

/// A workflow paused by `Manual` whose failed job was the last one left can
/// still be cancelled (an operator's way to close it without a retry).
pub async fn workflow_paused_with_nothing_left_cancels<S: Storage>(storage: S) {
    let a = Job::new("paused_end", json!("a")).with_max_attempts(1);
    let b = Job::new("paused_end", json!("b"));
    let group = JobGroup::new("paused_end")
        .add_parallel_jobs(vec![a.clone(), b.clone()])
        .with_failure_policy(FailurePolicy::Manual);
    let id = storage.enqueue_workflow(group).await.unwrap();
    let claimed = claim_all(&storage, "paused_end").await;
    let (first_a, first_b) = if claimed[0].id == a.id {
        (&claimed[0], &claimed[1])
    } else {
        (&claimed[1], &claimed[0])
    };
    complete(&storage, first_b, None).await;
    fail_permanently(&storage, first_a).await;
    assert_eq!(workflow_status(&storage, id).await, WorkflowStatus::Paused);
    assert!(
        storage.cancel_workflow(id).await.unwrap(),
        "a paused workflow refused to be cancelled"
    );
    assert_eq!(
        workflow_status(&storage, id).await,
        WorkflowStatus::Cancelled
    );
    assert!(!storage.cancel_workflow(id).await.unwrap(), "once only");
    assert_eq!(status_of(&storage, b.id).await, JobStatus::Completed);
    assert_eq!(status_of(&storage, a.id).await, JobStatus::Dead);
}

/// Retrying a workflow does not revive a job one of whose parents was
/// skipped (it would wait forever): it is skipped again. A revived job whose
/// parents have all completed has its condition evaluated, as when it was
/// first released: false skips it, true runs it.
pub async fn workflow_retry_respects_skipped_parents_and_conditions<S: Storage>(storage: S) {
    let v = Job::new("retry_cond", json!("v"));
    let a = Job::new("retry_cond", json!("a"))
        .depends_on(&v.id)
        .with_condition("kind == 'a'");
    let f = Job::new("retry_cond_f", json!("f")).with_max_attempts(1);
    let j = Job::new("retry_cond", json!("j"))
        .depends_on(&a.id)
        .depends_on(&f.id);
    let false_branch = Job::new("retry_cond", json!("false"))
        .depends_on(&v.id)
        .with_condition("kind == 'a'");
    let true_branch = Job::new("retry_cond", json!("true"))
        .depends_on(&v.id)
        .with_condition("kind == 'b'");
    let group = JobGroup::new("retry_cond")
        .add_parallel_jobs(vec![v.clone(), f.clone()])
        .add_parallel_jobs(vec![a.clone(), false_branch.clone(), true_branch.clone()])
        .add_job(j.clone())
        .with_failure_policy(FailurePolicy::ContinueOnFailure);
    let id = storage.enqueue_workflow(group).await.unwrap();
    // f dies first (j dies with it), the branches are cancelled by hand,
    // then v completes: a is skipped by its condition.
    let failing = claim_all(&storage, "retry_cond_f").await;
    fail_permanently(&storage, &failing[0]).await;
    assert_eq!(status_of(&storage, j.id).await, JobStatus::Dead);
    assert!(storage.cancel_job(false_branch.id).await.unwrap());
    assert!(storage.cancel_job(true_branch.id).await.unwrap());
    let first = claim_all(&storage, "retry_cond").await;
    assert_eq!(first.iter().map(|j| j.id).collect::<Vec<_>>(), vec![v.id]);
    complete(&storage, &first[0], Some(json!({"kind": "b"}))).await;
    assert_eq!(status_of(&storage, a.id).await, JobStatus::Skipped);

    storage.retry_workflow(id).await.unwrap();
    assert_eq!(
        status_of(&storage, j.id).await,
        JobStatus::Skipped,
        "a job whose parent was skipped was revived"
    );
    assert_eq!(
        status_of(&storage, false_branch.id).await,
        JobStatus::Skipped,
        "a revived job ran without its condition"
    );
    let ready = claim_all(&storage, "retry_cond").await;
    assert_eq!(
        ready.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![true_branch.id]
    );
    complete(&storage, &ready[0], None).await;
    let again = claim_all(&storage, "retry_cond_f").await;
    assert_eq!(again.iter().map(|j| j.id).collect::<Vec<_>>(), vec![f.id]);
    complete(&storage, &again[0], None).await;
    let stats = storage.get_workflow_stats(id).await.unwrap();
    assert_eq!(
        (
            stats.completed_jobs,
            stats.skipped_jobs,
            stats.pending_jobs,
            stats.running_jobs
        ),
        (3, 3, 0, 0),
        "{stats:?}"
    );
    assert_eq!(
        workflow_status(&storage, id).await,
        WorkflowStatus::Completed
    );
}

/// Retrying a failed workflow re-runs the dead jobs and what depended on them.
pub async fn workflow_retry_reruns_failed_and_dependents<S: Storage>(storage: S) {
    let a = Job::new("retry_wf", json!("a"));
    let b = Job::new("retry_wf", json!("b"));
    let group = JobGroup::new("retry_wf")
        .add_job(a.clone())
        .then(b.clone())
        .with_failure_policy(FailurePolicy::ContinueOnFailure);
    let id = storage.enqueue_workflow(group).await.unwrap();
    let first = claim_all(&storage, "retry_wf").await;
    fail_permanently(&storage, &first[0]).await;
    assert_eq!(workflow_status(&storage, id).await, WorkflowStatus::Failed);
    assert_eq!(status_of(&storage, b.id).await, JobStatus::Dead);

    assert_eq!(storage.retry_workflow(id).await.unwrap(), 2);
    let b_again = storage.get_job(b.id).await.unwrap().unwrap();
    assert_eq!(
        (
            b_again.status,
            b_again.dependency_status,
            b_again.pending_dependencies
        ),
        (JobStatus::Pending, DependencyStatus::Waiting, 1)
    );
    assert_eq!(workflow_status(&storage, id).await, WorkflowStatus::Running);
    for expected in [a.id, b.id] {
        let claimed = claim_all(&storage, "retry_wf").await;
        assert_eq!(
            claimed.iter().map(|j| j.id).collect::<Vec<_>>(),
            vec![expected]
        );
        assert_eq!(
            claimed[0].attempts, 1,
            "a retried job starts its attempts afresh"
        );
        complete(&storage, &claimed[0], None).await;
    }
    assert_eq!(
        workflow_status(&storage, id).await,
        WorkflowStatus::Completed
    );
}

/// Status and stats follow every transition; cancelling stops every
/// unfinished job; an unknown workflow is `WorkflowNotFound`.
pub async fn workflow_status_stats_and_cancel<S: Storage>(storage: S) {
    let jobs: Vec<Job> = (0..4).map(|i| Job::new("stats", json!(i))).collect();
    let last = Job::new("stats", json!("last"));
    let group = JobGroup::new("stats")
        .with_description("four then one")
        .add_parallel_jobs(jobs)
        .then(last.clone());
    let id = storage.enqueue_workflow(group).await.unwrap();
    let stats = storage.get_workflow_stats(id).await.unwrap();
    assert_eq!(
        (stats.total_jobs, stats.pending_jobs, stats.running_jobs),
        (5, 5, 0)
    );
    assert_eq!(stats.completion_percentage(), 0.0);

    let running = claim_all(&storage, "stats").await;
    assert_eq!(running.len(), 4);
    complete(&storage, &running[0], None).await;
    complete(&storage, &running[1], None).await;
    let stats = storage.get_workflow_stats(id).await.unwrap();
    assert_eq!(
        (stats.pending_jobs, stats.running_jobs, stats.completed_jobs),
        (1, 2, 2)
    );
    assert_eq!(stats.completion_percentage(), 40.0);
    assert_eq!(workflow_status(&storage, id).await, WorkflowStatus::Running);

    let listed = storage.list_workflows(Default::default()).await.unwrap();
    assert!(listed.iter().any(|w| w.id == id
        && w.name == "stats"
        && w.description.as_deref() == Some("four then one")));
    let in_workflow = storage
        .list_jobs(ListJobsParams::new().workflow(id))
        .await
        .unwrap();
    assert_eq!(in_workflow.len(), 5);

    assert!(storage.cancel_workflow(id).await.unwrap());
    assert_eq!(
        workflow_status(&storage, id).await,
        WorkflowStatus::Cancelled
    );
    let stats = storage.get_workflow_stats(id).await.unwrap();
    assert_eq!(
        (
            stats.completed_jobs,
            stats.cancelled_jobs,
            stats.pending_jobs,
            stats.running_jobs
        ),
        (2, 3, 0, 0)
    );
    assert_eq!(status_of(&storage, last.id).await, JobStatus::Cancelled);
    assert!(claim_all(&storage, "stats").await.is_empty());

    let unknown = WorkflowId::new();
    assert!(
        matches!(storage.get_workflow_status(unknown).await, Err(Error::WorkflowNotFound { id }) if id == unknown)
    );
}

/// A workflow past its timeout has its unfinished jobs cancelled and is `Failed`;
/// one within its timeout is left alone.
pub async fn workflow_timeout_fails_unfinished<S: Storage>(storage: S) {
    let a = Job::new("timeout", json!("a"));
    let b = Job::new("timeout", json!("b"));
    let group = JobGroup::new("timeout")
        .add_job(a.clone())
        .then(b.clone())
        .with_timeout(Duration::from_secs(60));
    let id = storage.enqueue_workflow(group).await.unwrap();
    let first = claim_all(&storage, "timeout").await;
    complete(&storage, &first[0], None).await;

    assert_eq!(
        storage.expire_workflows(now() + secs(30)).await.unwrap(),
        0,
        "expired before its deadline"
    );
    assert_eq!(workflow_status(&storage, id).await, WorkflowStatus::Running);
    assert_eq!(storage.expire_workflows(now() + secs(61)).await.unwrap(), 1);
    assert_eq!(workflow_status(&storage, id).await, WorkflowStatus::Failed);
    assert_eq!(status_of(&storage, a.id).await, JobStatus::Completed);
    assert_eq!(status_of(&storage, b.id).await, JobStatus::Cancelled);
}

/// A cycle or a dependency on an unknown id is a typed error naming the ids,
/// and nothing of the workflow is written.
pub async fn workflow_cycle_and_missing_dependency_write_nothing<S: Storage>(storage: S) {
    let mut a = Job::new("invalid", json!("a"));
    let b = Job::new("invalid", json!("b")).depends_on(&a.id);
    let c = Job::new("invalid", json!("c")).depends_on(&b.id);
    a = a.depends_on(&c.id);
    let (ia, ib, ic) = (a.id, b.id, c.id);
    let cycle = storage
        .enqueue_workflow(JobGroup::new("cycle").add_job(a).add_job(b).add_job(c))
        .await;
    match cycle {
        Err(Error::Cycle { path }) => {
            assert_eq!(path.len(), 4);
            assert_eq!(path.first(), path.last());
            for id in [ia, ib, ic] {
                assert!(path.contains(&id));
            }
        }
        other => panic!("expected a cycle error, got {other:?}"),
    }
    let ghost = JobId::new();
    let orphan = Job::new("invalid", json!("orphan")).depends_on(&ghost);
    let fine = Job::new("invalid", json!("fine"));
    let missing = storage
        .enqueue_workflow(
            JobGroup::new("missing")
                .add_job(fine.clone())
                .add_job(orphan),
        )
        .await;
    assert!(
        matches!(missing, Err(Error::MissingDependency { id, .. }) if id == ghost),
        "missing: {missing:?}"
    );
    assert!(
        storage
            .list_jobs(ListJobsParams::new())
            .await
            .unwrap()
            .is_empty(),
        "an invalid workflow wrote jobs"
    );
    assert!(
        storage
            .list_workflows(Default::default())
            .await
            .unwrap()
            .is_empty(),
        "an invalid workflow was recorded"
    );
}

/// Cancelling a workflow also cancels jobs outside it that wait on its jobs.
pub async fn workflow_cancel_reaches_dependents_outside<S: Storage>(storage: S) {
    let inner = Job::new("wf_outside", json!("inner")).scheduled_at(now() + secs(3600));
    let id = storage
        .enqueue_workflow(JobGroup::new("outside").add_job(inner.clone()))
        .await
        .unwrap();
    let outside = Job::new("wf_outside", json!("outside")).depends_on(&inner.id);
    storage.enqueue(outside.clone()).await.unwrap();
    assert!(storage.cancel_workflow(id).await.unwrap());
    assert_eq!(status_of(&storage, inner.id).await, JobStatus::Cancelled);
    let job = storage.get_job(outside.id).await.unwrap().unwrap();
    assert_eq!(
        (job.status, job.dependency_status),
        (JobStatus::Cancelled, DependencyStatus::Failed),
        "a job waiting on a cancelled workflow's job was left waiting"
    );
}

/// A workflow job that is dead at enqueue (its stored parent already failed)
/// applies the workflow's policy: FailFast fails the workflow at once.
pub async fn workflow_dead_at_enqueue_applies_policy<S: Storage>(storage: S) {
    let doomed = Job::new("dead_parent", json!({})).with_max_attempts(1);
    storage.enqueue(doomed.clone()).await.unwrap();
    let claimed = claim_all(&storage, "dead_parent").await;
    fail_permanently(&storage, &claimed[0]).await;

    let child = Job::new("dead_at_enqueue", json!("child")).depends_on(&doomed.id);
    let sibling = Job::new("dead_at_enqueue", json!("sibling"));
    let group = JobGroup::new("dead_at_enqueue")
        .add_parallel_jobs(vec![child.clone(), sibling.clone()])
        .with_failure_policy(FailurePolicy::FailFast);
    let id = storage.enqueue_workflow(group).await.unwrap();
    assert_eq!(status_of(&storage, child.id).await, JobStatus::Dead);
    assert_eq!(workflow_status(&storage, id).await, WorkflowStatus::Failed);
    assert_eq!(
        status_of(&storage, sibling.id).await,
        JobStatus::Cancelled,
        "FailFast did not run"
    );
    assert!(claim_all(&storage, "dead_at_enqueue").await.is_empty());
}

/// Sixteen settle batches run at once, each holding jobs of two workflows,
/// half of them reaching the first workflow's job first (by id) and half the
/// second's: every job settles, no call fails (a deadlock between them would
/// be retried, never returned), and both workflows' counters are exact.
/// Repeated with fresh workflows, so an interleaving that deadlocks shows.
pub async fn workflow_concurrent_settles_keep_counters_exact<S: Storage>(storage: S) {
    const BATCHES: usize = 16;
    const PAIRS_PER_BATCH: usize = 4;
    let storage = std::sync::Arc::new(storage);
    for round in 0..5 {
        let queue = format!("cc{round}");
        // Ids are time-ordered: creating the jobs pair by pair, alternating
        // which workflow's job comes first, alternates the order in which a
        // batch (settled in id order) reaches the two workflows.
        let (mut first, mut second, mut pairs) = (Vec::new(), Vec::new(), Vec::new());
        for pair in 0..BATCHES * PAIRS_PER_BATCH {
            let (x, y) = (Job::new(&queue, json!(pair)), Job::new(&queue, json!(pair)));
            let (a, b) = if (pair / PAIRS_PER_BATCH) % 2 == 0 {
                (x, y)
            } else {
                (y, x)
            };
            pairs.push((a.id, b.id));
            first.push(a.with_max_attempts(1));
            second.push(b.with_max_attempts(1));
        }
        let policy = FailurePolicy::ContinueOnFailure;
        let one = JobGroup::new("one").add_parallel_jobs(first);
        let two = JobGroup::new("two").add_parallel_jobs(second);
        let one = storage
            .enqueue_workflow(one.with_failure_policy(policy))
            .await
            .unwrap();
        let two = storage
            .enqueue_workflow(two.with_failure_policy(policy))
            .await
            .unwrap();
        let running = claim_all(&*storage, &queue).await;
        assert_eq!(running.len(), BATCHES * PAIRS_PER_BATCH * 2);
        let claim: std::collections::HashMap<JobId, i64> =
            running.iter().map(|j| (j.id, j.claims)).collect();
        // Every third pair fails (dead at once: one attempt allowed).
        let settle = |id: JobId, n: usize| {
            let lease = hammerwork_api::Lease {
                id,
                claim: claim[&id],
            };
            let outcome = if n % 3 == 0 {
                hammerwork_api::Outcome::Failed {
                    error: "on purpose".into(),
                    retry_at: None,
                }
            } else {
                hammerwork_api::Outcome::Completed { result: None }
            };
            hammerwork_api::Settlement::new(lease, outcome)
        };
        let mut tasks = Vec::new();
        for batch in pairs.chunks(PAIRS_PER_BATCH).enumerate() {
            let (b, chunk) = batch;
            let settlements: Vec<_> = chunk
                .iter()
                .enumerate()
                .flat_map(|(i, (a, c))| {
                    let n = b * PAIRS_PER_BATCH + i;
                    [settle(*a, n), settle(*c, n)]
                })
                .collect();
            let storage = storage.clone();
            tasks.push(tokio::spawn(async move {
                storage.settle_jobs(&settlements, now()).await
            }));
        }
        let mut settled = 0;
        for task in tasks {
            settled += task.await.unwrap().expect("no settle call fails");
        }
        assert_eq!(settled as usize, BATCHES * PAIRS_PER_BATCH * 2);
        let failed = (0..BATCHES * PAIRS_PER_BATCH)
            .filter(|n| n % 3 == 0)
            .count() as u64;
        for workflow in [one, two] {
            let stats = storage.get_workflow_stats(workflow).await.unwrap();
            let total = (BATCHES * PAIRS_PER_BATCH) as u64;
            assert_eq!(
                (stats.total_jobs, stats.completed_jobs, stats.failed_jobs),
                (total, total - failed, failed),
                "round {round}: {stats:?}"
            );
            assert_eq!(
                (stats.pending_jobs, stats.running_jobs),
                (0, 0),
                "{stats:?}"
            );
            assert_eq!(
                storage.get_workflow_status(workflow).await.unwrap(),
                WorkflowStatus::Failed
            );
        }
    }
}

/// A workflow whose jobs an operator cancelled one by one (a job and, with
/// it, its dependents) is `Cancelled` once the rest has finished, never
/// `Completed`: it did not do all its work.
pub async fn workflow_cancelled_jobs_leave_it_cancelled<S: Storage>(storage: S) {
    let first = Job::new("wf_cancel_jobs", json!("first"));
    let second = Job::new("wf_cancel_jobs", json!("second")).depends_on(&first.id);
    let other = Job::new("wf_cancel_jobs", json!("other"));
    let group = JobGroup::new("cancel jobs")
        .add_job(first.clone())
        .add_job(second.clone())
        .add_job(other.clone());
    let id = storage.enqueue_workflow(group).await.unwrap();

    assert!(storage.cancel_job(first.id).await.unwrap());
    assert_eq!(status_of(&storage, second.id).await, JobStatus::Cancelled);
    assert_eq!(workflow_status(&storage, id).await, WorkflowStatus::Running);
    let running = claim_all(&storage, "wf_cancel_jobs").await;
    assert_eq!(running.len(), 1);
    complete(&storage, &running[0], None).await;

    let stats = storage.get_workflow_stats(id).await.unwrap();
    assert_eq!((stats.completed_jobs, stats.cancelled_jobs), (1, 2));
    assert_eq!(
        workflow_status(&storage, id).await,
        WorkflowStatus::Cancelled
    );
}
