use std::sync::Arc;

use hammerwork_api::workflow::JobGroup;
use hammerwork_api::{
    DatabaseQueue, DependencyStatus, Job, JobId, JobPriority, JobStatus, Storage,
};
use serde_json::{json, Value};

use crate::support::{claim_all, complete, fail_permanently, now, secs};

async fn get<S: Storage>(storage: &S, job: &Job) -> Job {
    storage.get_job(job.id).await.unwrap().expect("job exists")
}

/// A chain runs one job at a time, in order: each waits until the previous
/// completed, and is released the moment it does.
pub async fn dependency_chain_runs_in_order<S: Storage>(storage: S) {
    let (a, b, c) = (
        Job::new("chain", json!("a")),
        Job::new("chain", json!("b")),
        Job::new("chain", json!("c")),
    );
    let group = JobGroup::new("chain")
        .add_job(a.clone())
        .then(b.clone())
        .then(c.clone());
    storage.enqueue_workflow(group).await.unwrap();

    let waiting = get(&storage, &b).await;
    assert_eq!(waiting.depends_on, vec![a.id]);
    assert_eq!(waiting.dependency_status, DependencyStatus::Waiting);
    assert_eq!(waiting.pending_dependencies, 1);
    assert_eq!(
        get(&storage, &a).await.dependency_status,
        DependencyStatus::None
    );

    for expected in [&a, &b, &c] {
        let claimed = claim_all(&storage, "chain").await;
        assert_eq!(
            claimed.len(),
            1,
            "exactly one job of a chain is ready at a time"
        );
        assert_eq!(claimed[0].id, expected.id);
        complete(&storage, &claimed[0], None).await;
    }
    let last = get(&storage, &c).await;
    assert_eq!(last.status, JobStatus::Completed);
    assert_eq!(last.dependency_status, DependencyStatus::Satisfied);
    assert_eq!(last.pending_dependencies, 0);
}

/// Fan-out then fan-in: the children run after the root, the aggregate only
/// after the last child; a job with several dependencies waits for all.
pub async fn dependency_fan_out_fan_in<S: Storage>(storage: S) {
    let root = Job::new("fan", json!("root"));
    let children: Vec<Job> = (0..5)
        .map(|i| Job::new("fan", json!(i)).depends_on(&root.id))
        .collect();
    let aggregate = Job::new("fan", json!("aggregate"));
    let group = JobGroup::new("fan")
        .add_job(root.clone())
        .add_parallel_jobs(children.clone())
        .then(aggregate.clone());
    storage.enqueue_workflow(group).await.unwrap();
    assert_eq!(get(&storage, &aggregate).await.pending_dependencies, 5);
    // Both directions of the graph read back as stored, ordered by id.
    let ids = |jobs: Vec<Job>| jobs.into_iter().map(|j| j.id).collect::<Vec<_>>();
    let mut child_ids: Vec<JobId> = children.iter().map(|j| j.id).collect();
    child_ids.sort_unstable();
    assert_eq!(
        ids(storage.get_dependents(root.id).await.unwrap()),
        child_ids
    );
    assert_eq!(
        ids(storage.get_dependents(children[2].id).await.unwrap()),
        vec![aggregate.id]
    );
    assert_eq!(
        ids(storage.get_dependencies(aggregate.id).await.unwrap()),
        child_ids
    );
    assert!(storage
        .get_dependents(aggregate.id)
        .await
        .unwrap()
        .is_empty());

    let first = claim_all(&storage, "fan").await;
    assert_eq!(
        first.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![root.id]
    );
    complete(&storage, &first[0], None).await;
    let fanned = claim_all(&storage, "fan").await;
    assert_eq!(fanned.len(), 5, "every child is released by the root");
    for child in &fanned[..4] {
        complete(&storage, child, None).await;
    }
    assert!(
        claim_all(&storage, "fan").await.is_empty(),
        "the aggregate ran before its last parent"
    );
    assert_eq!(get(&storage, &aggregate).await.pending_dependencies, 1);
    complete(&storage, &fanned[4], None).await;
    let last = claim_all(&storage, "fan").await;
    assert_eq!(
        last.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![aggregate.id]
    );
}

/// Depending on stored jobs: a completed parent is satisfied at once, a pending
/// one is waited for, a dead one fails the new job at once.
pub async fn dependency_on_stored_jobs<S: Storage>(storage: S) {
    let done = Job::new("stored", json!("done"));
    let dead = Job::new("stored", json!("dead")).with_max_attempts(1);
    let open = Job::new("stored", json!("open")).scheduled_at(now() + secs(3600));
    storage
        .enqueue_many(vec![done.clone(), dead.clone(), open.clone()])
        .await
        .unwrap();
    for job in claim_all(&storage, "stored").await {
        if job.id == done.id {
            complete(&storage, &job, Some(json!(1))).await;
        } else {
            fail_permanently(&storage, &job).await;
        }
    }

    let after_done = Job::new("stored_child", json!({})).depends_on(&done.id);
    let after_open = Job::new("stored_child", json!({}))
        .depends_on(&open.id)
        .depends_on(&done.id);
    let after_dead = Job::new("stored_child", json!({})).depends_on(&dead.id);
    storage
        .enqueue_many(vec![
            after_done.clone(),
            after_open.clone(),
            after_dead.clone(),
        ])
        .await
        .unwrap();

    let satisfied = get(&storage, &after_done).await;
    assert_eq!(
        (satisfied.dependency_status, satisfied.pending_dependencies),
        (DependencyStatus::Satisfied, 0)
    );
    let waiting = get(&storage, &after_open).await;
    assert_eq!(
        (waiting.dependency_status, waiting.pending_dependencies),
        (DependencyStatus::Waiting, 1)
    );
    let failed = get(&storage, &after_dead).await;
    assert_eq!(failed.dependency_status, DependencyStatus::Failed);
    assert_eq!(failed.status, JobStatus::Dead);

    let ready = claim_all(&storage, "stored_child").await;
    assert_eq!(
        ready.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![after_done.id]
    );
}

/// 64 parents completing at once, each in its own settle call: their shared
/// child is released exactly once, with its counter at zero, never below.
pub async fn dependency_shared_child_released_once_by_concurrent_parents<S: Storage + Clone>(
    storage: S,
) {
    let parents: Vec<Job> = (0..64)
        .map(|i| Job::new("many_parents", json!(i)))
        .collect();
    let child = Job::new("shared_child", json!({})).depends_on_jobs(parents.iter().map(|p| p.id));
    let group = JobGroup::new("fan_in_64")
        .add_parallel_jobs(parents)
        .then(child.clone());
    storage.enqueue_workflow(group).await.unwrap();

    let claimed = claim_all(&storage, "many_parents").await;
    assert_eq!(claimed.len(), 64);
    let storage_ref = Arc::new(storage.clone());
    let barrier = Arc::new(tokio::sync::Barrier::new(64));
    let tasks: Vec<_> = claimed
        .into_iter()
        .map(|job| {
            let (storage, barrier) = (storage_ref.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                complete(storage.as_ref(), &job, None).await;
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let released = get(&storage, &child).await;
    assert_eq!(released.pending_dependencies, 0);
    assert_eq!(released.dependency_status, DependencyStatus::Satisfied);
    let ready = claim_all(&storage, "shared_child").await;
    assert_eq!(ready.len(), 1);
    assert!(claim_all(&storage, "shared_child").await.is_empty());
}

/// A running job outside any workflow completes while another call enqueues
/// a job depending on it, 4 rounds of 40 such pairs started together: each
/// dependent is written satisfied (its parent finished first) or is released
/// by the completion (its edge landed first). None waits forever on a parent
/// settled by a shortcut that did not see the new edge.
pub async fn dependency_on_a_parent_settling_concurrently<S: Storage + Clone>(storage: S) {
    for round in 0..4 {
        let parents: Vec<Job> = (0..40)
            .map(|i| Job::new("racing_parent", json!([round, i])))
            .collect();
        storage.enqueue_many(parents).await.unwrap();
        let claimed = claim_all(&storage, "racing_parent").await;
        assert_eq!(claimed.len(), 40);
        let barrier = Arc::new(tokio::sync::Barrier::new(2 * claimed.len()));
        let mut tasks = Vec::new();
        let mut children = Vec::new();
        for parent in claimed {
            let child = Job::new("racing_child", json!([round])).depends_on(&parent.id);
            children.push(child.id);
            let (store, gate) = (storage.clone(), barrier.clone());
            tasks.push(tokio::spawn(async move {
                gate.wait().await;
                store.enqueue(child).await.unwrap();
            }));
            let (store, gate) = (storage.clone(), barrier.clone());
            tasks.push(tokio::spawn(async move {
                gate.wait().await;
                complete(&store, &parent, None).await;
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        for id in &children {
            let child = storage.get_job(*id).await.unwrap().expect("child stored");
            assert_eq!(
                (child.dependency_status, child.pending_dependencies),
                (DependencyStatus::Satisfied, 0),
                "round {round}: child {id} of a completed parent"
            );
        }
        assert_eq!(claim_all(&storage, "racing_child").await.len(), 40);
    }
}

/// Priority orders ready jobs only: a critical job waiting on a background
/// one is not claimed before it.
pub async fn dependency_priority_never_overrides_dependencies<S: Storage>(storage: S) {
    let low = Job::new("prio_dep", json!("low")).with_priority(JobPriority::Background);
    let high = Job::new("prio_dep", json!("high"))
        .with_priority(JobPriority::Critical)
        .depends_on(&low.id);
    storage
        .enqueue_many(vec![high.clone(), low.clone()])
        .await
        .unwrap();
    let first = claim_all(&storage, "prio_dep").await;
    assert_eq!(first.iter().map(|j| j.id).collect::<Vec<_>>(), vec![low.id]);
    complete(&storage, &first[0], None).await;
    let second = claim_all(&storage, "prio_dep").await;
    assert_eq!(
        second.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![high.id]
    );
}

/// A condition is checked against the parents' results when the job is
/// released: true runs it, false skips it, and a skipped job's dependents are
/// skipped too.
pub async fn dependency_conditions_run_skip_and_propagate<S: Storage>(storage: S) {
    let validate = Job::new("cond", json!("validate"));
    let on_valid = Job::new("cond", json!("valid path"))
        .depends_on(&validate.id)
        .with_condition("validation_status == 'valid' && rows > 10");
    let on_invalid = Job::new("cond", json!("invalid path"))
        .depends_on(&validate.id)
        .with_condition("validation_status == 'invalid'");
    let after_invalid = Job::new("cond", json!("after invalid")).depends_on(&on_invalid.id);
    let group = JobGroup::new("conditions")
        .add_job(validate.clone())
        .add_parallel_jobs(vec![on_valid.clone(), on_invalid.clone()])
        .add_job(after_invalid.clone());
    let workflow = storage.enqueue_workflow(group).await.unwrap();

    let first = claim_all(&storage, "cond").await;
    complete(
        &storage,
        &first[0],
        Some(json!({"validation_status": "valid", "rows": 42})),
    )
    .await;
    let next = claim_all(&storage, "cond").await;
    assert_eq!(
        next.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![on_valid.id],
        "only the true branch runs"
    );
    assert_eq!(get(&storage, &on_invalid).await.status, JobStatus::Skipped);
    assert_eq!(
        get(&storage, &after_invalid).await.status,
        JobStatus::Skipped,
        "skip propagates"
    );
    complete(&storage, &next[0], None).await;

    let stats = storage.get_workflow_stats(workflow).await.unwrap();
    assert_eq!(
        (stats.completed_jobs, stats.skipped_jobs, stats.pending_jobs),
        (2, 2, 0)
    );
    assert_eq!(
        storage.get_workflow_status(workflow).await.unwrap(),
        hammerwork_api::workflow::WorkflowStatus::Completed
    );
}

/// A condition that does not parse is rejected at enqueue with its position,
/// and nothing of the batch is written.
pub async fn dependency_bad_condition_is_rejected<S: Storage>(storage: S) {
    let parent = Job::new("bad_cond", json!({}));
    let child = Job::new("bad_cond", json!({}))
        .depends_on(&parent.id)
        .with_condition("status = 'x'");
    let result = storage
        .enqueue_workflow(JobGroup::new("bad").add_job(parent.clone()).add_job(child))
        .await;
    assert!(
        matches!(
            result,
            Err(hammerwork_api::Error::InvalidCondition { pos: 7, .. })
        ),
        "bad condition: {result:?}"
    );
    assert!(
        storage.get_job(parent.id).await.unwrap().is_none(),
        "half a workflow was written"
    );
}

/// Parents' results are readable in one call, for fan-in aggregation.
pub async fn dependency_parent_results_are_readable<S: Storage>(storage: S) {
    let parents: Vec<Job> = (0..3).map(|i| Job::new("results", json!(i))).collect();
    let child = Job::new("results_child", json!({})).depends_on_jobs(parents.iter().map(|p| p.id));
    storage
        .enqueue_workflow(
            JobGroup::new("results")
                .add_parallel_jobs(parents)
                .then(child.clone()),
        )
        .await
        .unwrap();
    for job in claim_all(&storage, "results").await {
        let n = job.payload.as_i64().unwrap();
        complete(&storage, &job, Some(json!({"n": n * 10}))).await;
    }
    let claimed = claim_all(&storage, "results_child").await;
    let parents = storage.get_jobs(&claimed[0].depends_on).await.unwrap();
    let mut values: Vec<Value> = parents
        .into_iter()
        .map(|p| p.result.unwrap()["n"].clone())
        .collect();
    values.sort_by_key(|v| v.as_i64());
    assert_eq!(values, vec![json!(0), json!(10), json!(20)]);
}

/// A batch job (one job over many items) runs whole before its dependent.
pub async fn dependency_batch_job_then_dependent<S: Storage>(storage: S) {
    let batch = Job::new_batch(
        "batch",
        vec![json!({"item": 1}), json!({"item": 2}), json!({"item": 3})],
    );
    let summary = Job::new("batch_summary", json!({}));
    let group = JobGroup::new("batch_workflow")
        .add_job(batch.clone())
        .then(summary.clone());
    storage.enqueue_workflow(group).await.unwrap();
    assert!(
        claim_all(&storage, "batch_summary").await.is_empty(),
        "the dependent ran before the batch"
    );
    let claimed = claim_all(&storage, "batch").await;
    assert_eq!(claimed.len(), 1, "a batch is one job");
    assert_eq!(claimed[0].payload.as_array().map(Vec::len), Some(3));
    complete(&storage, &claimed[0], Some(json!({"processed": 3}))).await;
    let next = claim_all(&storage, "batch_summary").await;
    assert_eq!(
        next.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![summary.id]
    );
}

/// Cancelling a job cancels the jobs waiting on it, transitively; a job that
/// dies in a lease rescue fails its dependents as a settled failure would.
pub async fn dependency_cancel_and_rescue_reach_dependents<S: Storage>(storage: S) {
    let a = Job::new("cancel_chain", json!("a")).scheduled_at(now() + secs(3600));
    let b = Job::new("cancel_chain", json!("b")).depends_on(&a.id);
    let c = Job::new("cancel_chain", json!("c")).depends_on(&b.id);
    let other = Job::new("cancel_chain", json!("other"));
    storage
        .enqueue_many(vec![a.clone(), b.clone(), c.clone(), other.clone()])
        .await
        .unwrap();
    assert!(storage.cancel_job(a.id).await.unwrap());
    for id in [b.id, c.id] {
        let job = storage.get_job(id).await.unwrap().unwrap();
        assert_eq!(
            (job.status, job.dependency_status),
            (JobStatus::Cancelled, DependencyStatus::Failed)
        );
    }
    assert_eq!(
        get(&storage, &other).await.status,
        JobStatus::Pending,
        "an unrelated job was cancelled"
    );

    let crashed = Job::new("rescue_chain", json!("crashed")).with_max_attempts(1);
    let after = Job::new("rescue_chain", json!("after")).depends_on(&crashed.id);
    storage
        .enqueue_many(vec![crashed.clone(), after.clone()])
        .await
        .unwrap();
    let t = now();
    let claimed = storage
        .claim_jobs(hammerwork_api::ClaimParams::new(
            "rescue_chain",
            10,
            t,
            t + secs(5),
        ))
        .await
        .unwrap();
    assert_eq!(
        claimed.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![crashed.id]
    );
    assert_eq!(storage.rescue_expired_jobs(t + secs(6)).await.unwrap(), 1);
    assert_eq!(get(&storage, &crashed).await.status, JobStatus::Dead);
    let failed = get(&storage, &after).await;
    assert_eq!(
        (failed.status, failed.dependency_status),
        (JobStatus::Dead, DependencyStatus::Failed)
    );
}
