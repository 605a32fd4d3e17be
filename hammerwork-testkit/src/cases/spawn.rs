use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use hammerwork::spawn::{
    plan_spawn, JobSpawnExt, SpawnConfig, SpawnContext, SpawnError, SpawnHandler, SpawnManager,
    SpawnQuery,
};
use hammerwork::workflow::{FailurePolicy, JobGroup, WorkflowStatus};
use hammerwork::{
    DatabaseQueue, DependencyStatus, Error, HandlerResult, Job, JobContext, JobId, JobPriority,
    JobStatus, Lease, ListJobsParams, Storage, StorageDatabase, Worker,
};
use serde_json::json;

use crate::support::{claim_all, complete, fail_permanently, now, secs, wait_for};

/// Spawns `count` no-op children on queue `child_queue`.
struct Fan {
    count: usize,
    child_queue: &'static str,
}

#[async_trait]
impl<DB: 'static> SpawnHandler<DB> for Fan {
    async fn spawn_jobs(&self, ctx: SpawnContext<DB>) -> hammerwork::Result<Vec<Job>> {
        Ok((0..self.count)
            .map(|i| Job::new(self.child_queue, json!({"i": i, "of": ctx.parent_job.id})))
            .collect())
    }

    async fn validate_spawn(&self, parent: &Job, _: &SpawnConfig) -> hammerwork::Result<()> {
        if parent.payload.get("refuse").is_some() {
            return Err(SpawnError::rejected("parent asked to be refused"));
        }
        Ok(())
    }
}

/// Spawns the spec's decomposed pipeline: three steps, each waiting for the
/// one before, the first waiting for the parent.
struct Pipeline;

#[async_trait]
impl<DB: 'static> SpawnHandler<DB> for Pipeline {
    async fn spawn_jobs(&self, ctx: SpawnContext<DB>) -> hammerwork::Result<Vec<Job>> {
        let mut previous = ctx.parent_job.id;
        let mut jobs = Vec::new();
        for step in ["extract", "transform", "load"] {
            let job = Job::new("spawn_chain", json!({"step": step})).depends_on(&previous);
            previous = job.id;
            jobs.push(job);
        }
        Ok(jobs)
    }
}

async fn get<S: Storage>(storage: &S, id: JobId) -> Job {
    storage.get_job(id).await.unwrap().expect("job exists")
}

/// Claims `parent` and writes `children` under `config` with its completion,
/// as a worker would; returns what `complete_and_spawn` returned.
async fn spawn_now<S: Storage>(
    storage: &S,
    queue: &str,
    config: SpawnConfig,
    children: Vec<Job>,
) -> hammerwork::Result<bool> {
    let claimed = claim_all(storage, queue).await;
    assert_eq!(claimed.len(), 1, "expected one parent on {queue}");
    let parent = &claimed[0];
    let set = plan_spawn(parent, &config.with_handler("test"), children, now())?;
    storage
        .complete_and_spawn(lease_of(parent), None, &set, now())
        .await
}

fn lease_of(job: &Job) -> Lease {
    Lease::of(job)
}

fn manager<DB: 'static>() -> SpawnManager<DB> {
    let mut manager = SpawnManager::new();
    manager.register_handler(
        "fan",
        Fan {
            count: 5,
            child_queue: "spawn_child",
        },
    );
    manager.register_handler("pipeline", Pipeline);
    manager
}

/// Runs a spawning worker on `queue` until `job` is finished; returns it.
async fn run_parent<S: Storage + Clone + StorageDatabase>(
    storage: &S,
    queue: &str,
    job: Job,
) -> Job {
    storage.enqueue(job.clone()).await.unwrap();
    let running = Worker::new(storage.clone(), queue, |_: JobContext| async {
        HandlerResult::Ok(Some(json!({"parent": "done"})))
    })
    .with_spawn_manager(manager::<S::Database>())
    .with_poll_interval(Duration::from_millis(20))
    .start();
    let finished = wait_for("the parent to finish", || async {
        let job = get(storage, job.id).await;
        job.status.is_terminal().then_some(job)
    })
    .await;
    running.shutdown().await;
    finished
}

/// A worker runs a parent's handler, then its spawn handler; the children
/// are written with the parent's completion, carry parent, operation and
/// depth, and then run.
pub async fn spawn_handler_children_run<S: Storage + Clone + StorageDatabase>(storage: S) {
    let parent = Job::new("spawn_parent", json!({"dataset": "ds-1"})).with_spawn_handler("fan");
    let done = run_parent(&storage, "spawn_parent", parent.clone()).await;
    assert_eq!(
        done.status,
        JobStatus::Completed,
        "{:?}",
        done.error_message
    );
    assert_eq!(done.result, Some(json!({"parent": "done"})));

    let children = storage.get_children(parent.id).await.unwrap();
    assert_eq!(children.len(), 5);
    let op_id = children[0]
        .spawn_operation_id
        .clone()
        .expect("operation id");
    for child in &children {
        assert_eq!(child.parent_job_id, Some(parent.id));
        assert_eq!(child.spawn_operation_id.as_deref(), Some(op_id.as_str()));
        assert_eq!(child.spawn_depth, 1);
        assert_eq!(child.queue_name, "spawn_child");
    }
    let op = storage.get_spawn_operation(&op_id).await.unwrap().unwrap();
    assert_eq!(op.parent_job_id, parent.id);
    assert_eq!(op.handler, "fan");
    assert_eq!(op.child_count, 5);

    let ran = Arc::new(Mutex::new(Vec::new()));
    let seen = ran.clone();
    let running = Worker::new(storage.clone(), "spawn_child", move |ctx: JobContext| {
        let seen = seen.clone();
        async move {
            seen.lock().unwrap().push(ctx.id);
            HandlerResult::Ok(None)
        }
    })
    .with_poll_interval(Duration::from_millis(20))
    .start();
    wait_for("5 children to complete", || async {
        (storage.queue_counts("spawn_child").await.unwrap().completed == 5).then_some(())
    })
    .await;
    running.shutdown().await;
    let mut ran = ran.lock().unwrap().clone();
    ran.sort();
    let mut expected: Vec<JobId> = children.iter().map(|c| c.id).collect();
    expected.sort();
    assert_eq!(ran, expected, "each child ran once");
}

/// `inherit_priority` / `inherit_queue` give children the parent's priority
/// and queue; without them children keep their own.
pub async fn spawn_inherit_priority_and_queue<S: Storage>(storage: S) {
    for inherit in [true, false] {
        let queue = if inherit { "inh_on" } else { "inh_off" };
        let parent = Job::new(queue, json!({})).with_priority(JobPriority::Critical);
        storage.enqueue(parent.clone()).await.unwrap();
        let child = Job::new("inh_child", json!({})).with_priority(JobPriority::Low);
        let config = SpawnConfig::new()
            .with_inherit_priority(inherit)
            .with_inherit_queue(inherit);
        assert!(spawn_now(&storage, queue, config, vec![child.clone()])
            .await
            .unwrap());
        let stored = get(&storage, child.id).await;
        if inherit {
            assert_eq!(stored.priority, JobPriority::Critical);
            assert_eq!(stored.queue_name, queue);
        } else {
            assert_eq!(stored.priority, JobPriority::Low);
            assert_eq!(stored.queue_name, "inh_child");
        }
    }
}

/// `spawn_delay` staggers the children: child i runs no earlier than
/// i x delay after the spawn.
pub async fn spawn_delay_staggers_schedule<S: Storage>(storage: S) {
    storage
        .enqueue(Job::new("delay_parent", json!({})))
        .await
        .unwrap();
    let children: Vec<Job> = (0..4).map(|i| Job::new("delay_child", json!(i))).collect();
    let config = SpawnConfig::new().with_spawn_delay(Duration::from_secs(30));
    assert!(
        spawn_now(&storage, "delay_parent", config, children.clone())
            .await
            .unwrap()
    );
    let stored: Vec<Job> = storage
        .get_jobs(&children.iter().map(|c| c.id).collect::<Vec<_>>())
        .await
        .unwrap();
    let mut times: Vec<_> = stored.iter().map(|c| c.scheduled_at).collect();
    times.sort();
    for pair in times.windows(2) {
        assert_eq!(pair[1] - pair[0], secs(30));
    }
    // Only the first is due now.
    assert_eq!(claim_all(&storage, "delay_child").await.len(), 1);
}

/// `batch_size` writes the children in batches (recorded on the operation);
/// a child that depends on a sibling of a later batch is refused with
/// nothing written and the parent still running.
pub async fn spawn_batch_size_writes_in_batches<S: Storage>(storage: S) {
    storage
        .enqueue(Job::new("batch_parent", json!({})))
        .await
        .unwrap();
    let children: Vec<Job> = (0..25).map(|i| Job::new("batch_child", json!(i))).collect();
    let config = SpawnConfig::new()
        .with_batch_size(10)
        .with_operation_id("op-batch");
    assert!(spawn_now(&storage, "batch_parent", config, children)
        .await
        .unwrap());
    let op = storage
        .get_spawn_operation("op-batch")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((op.child_count, op.batch_count), (25, 3));
    assert_eq!(
        storage.queue_counts("batch_child").await.unwrap().pending,
        25
    );

    let parent = Job::new("batch_parent2", json!({}));
    storage.enqueue(parent.clone()).await.unwrap();
    let late = Job::new("batch_child2", json!("late"));
    let early = Job::new("batch_child2", json!("early")).depends_on(&late.id);
    let err = spawn_now(
        &storage,
        "batch_parent2",
        SpawnConfig::new().with_batch_size(1),
        vec![early, late],
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, Error::Spawn(SpawnError::InvalidConfig { .. })),
        "{err}"
    );
    assert_eq!(get(&storage, parent.id).await.status, JobStatus::Running);
    assert!(storage.get_children(parent.id).await.unwrap().is_empty());
}

/// More children than `max_spawn_count`, or children deeper than the depth
/// limit, fail the parent with a typed reason and write no child.
pub async fn spawn_limits_write_nothing<S: Storage + Clone + StorageDatabase>(storage: S) {
    let too_many = Job::new("limit_parent", json!({}))
        .with_spawn_handler("fan")
        .with_spawn_config(SpawnConfig::new().with_max_spawn_count(3))
        .with_max_attempts(3);
    let done = run_parent(&storage, "limit_parent", too_many.clone()).await;
    assert_eq!(
        done.status,
        JobStatus::Dead,
        "not retried: it cannot succeed"
    );
    assert_eq!(done.attempts, 1);
    let why = done.error_message.unwrap();
    assert!(why.contains("max_spawn_count 3"), "{why}");
    assert!(storage.get_children(too_many.id).await.unwrap().is_empty());
    assert!(storage
        .get_spawn_operation(&format!("spawn-{}", too_many.id))
        .await
        .unwrap()
        .is_none());

    let mut deep = Job::new("limit_parent", json!({}))
        .with_spawn_handler("fan")
        .with_spawn_config(SpawnConfig::new().with_max_depth(2));
    deep.spawn_depth = 2;
    let done = run_parent(&storage, "limit_parent", deep.clone()).await;
    assert_eq!(done.status, JobStatus::Dead);
    let why = done.error_message.unwrap();
    assert!(why.contains("depth limit 2"), "{why}");
    assert!(storage.get_children(deep.id).await.unwrap().is_empty());
    assert_eq!(
        storage.queue_counts("spawn_child").await.unwrap().pending,
        0
    );
}

/// A handler's `validate_spawn` refusal fails the parent for good, naming the
/// reason; nothing is spawned.
pub async fn spawn_validate_rejection_fails_parent<S: Storage + Clone + StorageDatabase>(
    storage: S,
) {
    let job = Job::new("reject_parent", json!({"refuse": true})).with_spawn_handler("fan");
    let done = run_parent(&storage, "reject_parent", job.clone()).await;
    assert_eq!(done.status, JobStatus::Dead);
    assert!(done
        .error_message
        .unwrap()
        .contains("parent asked to be refused"));
    assert!(storage.get_children(job.id).await.unwrap().is_empty());
}

/// An unknown handler fails the parent with a typed reason and nothing is
/// spawned; a `_spawn_config` that does not parse is refused at enqueue.
pub async fn spawn_unknown_handler_fails_parent<S: Storage + Clone + StorageDatabase>(storage: S) {
    let job = Job::new("unknown_parent", json!({})).with_spawn_handler("nobody");
    let done = run_parent(&storage, "unknown_parent", job.clone()).await;
    assert_eq!(done.status, JobStatus::Dead);
    let why = done.error_message.unwrap();
    assert!(
        why.contains("no spawn handler is registered as \"nobody\""),
        "{why}"
    );

    assert!(storage.get_children(job.id).await.unwrap().is_empty());

    // A configuration that does not parse is refused at enqueue.
    let bad = Job::new(
        "unknown_parent",
        json!({"_spawn_config": {"handler": "fan", "max_spawn_count": "lots"}}),
    );
    let err = storage.enqueue(bad.clone()).await.unwrap_err();
    assert!(
        matches!(err, Error::Spawn(SpawnError::InvalidConfig { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("invalid spawn config"), "{err}");
    assert!(storage.get_job(bad.id).await.unwrap().is_none());
}

/// A worker that wrote the spawn but lost the acknowledgement retries it, and
/// the lease is later rescued: neither writes a second set of children. An
/// operation id already taken by another parent is refused, nothing written.
pub async fn spawn_crash_between_spawn_and_ack_does_not_duplicate<S: Storage>(storage: S) {
    storage
        .enqueue(Job::new("ack_parent", json!({})))
        .await
        .unwrap();
    let claimed = claim_all(&storage, "ack_parent").await;
    let parent = &claimed[0];
    let children: Vec<Job> = (0..3).map(|i| Job::new("ack_child", json!(i))).collect();
    let config = SpawnConfig::new()
        .with_handler("test")
        .with_operation_id("op-ack");
    let set = plan_spawn(parent, &config, children, now()).unwrap();
    assert!(storage
        .complete_and_spawn(lease_of(parent), None, &set, now())
        .await
        .unwrap());
    // The acknowledgement was lost: the same call again writes nothing.
    assert!(!storage
        .complete_and_spawn(lease_of(parent), None, &set, now())
        .await
        .unwrap());
    // Nor does a rescue after the lease would have expired.
    assert_eq!(
        storage
            .rescue_expired_jobs(now() + secs(3600))
            .await
            .unwrap(),
        0
    );
    assert!(claim_all(&storage, "ack_parent").await.is_empty());
    assert_eq!(get(&storage, parent.id).await.status, JobStatus::Completed);
    let all = storage
        .list_jobs(ListJobsParams::new().queue("ack_child"))
        .await
        .unwrap();
    assert_eq!(all.len(), 3, "children written exactly once");

    // Another parent reusing the operation id: refused, nothing written.
    storage
        .enqueue(Job::new("ack_parent", json!({})))
        .await
        .unwrap();
    let other = claim_all(&storage, "ack_parent").await.remove(0);
    let set = plan_spawn(
        &other,
        &config,
        vec![Job::new("ack_child", json!("x"))],
        now(),
    )
    .unwrap();
    let err = storage
        .complete_and_spawn(lease_of(&other), None, &set, now())
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Spawn(SpawnError::DuplicateOperation { .. })),
        "{err}"
    );
    assert_eq!(get(&storage, other.id).await.status, JobStatus::Running);
    assert_eq!(
        storage
            .list_jobs(ListJobsParams::new().queue("ack_child"))
            .await
            .unwrap()
            .len(),
        3
    );
}

/// Root -> child -> grandchild: lineage reads both ways (ancestors nearest
/// first, descendants level by level, cut at a depth), and the tree renders
/// as JSON and Mermaid.
pub async fn spawn_lineage_and_tree<S: Storage>(storage: S) {
    let root = Job::new("lin_root", json!({}));
    storage.enqueue(root.clone()).await.unwrap();
    let child = Job::new("lin_child", json!({}));
    assert!(spawn_now(
        &storage,
        "lin_root",
        SpawnConfig::new(),
        vec![child.clone()]
    )
    .await
    .unwrap());
    let grandchild = Job::new("lin_grandchild", json!({}));
    assert!(spawn_now(
        &storage,
        "lin_child",
        SpawnConfig::new(),
        vec![grandchild.clone()]
    )
    .await
    .unwrap());
    assert_eq!(get(&storage, grandchild.id).await.spawn_depth, 2);

    let up: Vec<JobId> = storage
        .get_ancestors(grandchild.id)
        .await
        .unwrap()
        .iter()
        .map(|j| j.id)
        .collect();
    assert_eq!(up, vec![child.id, root.id]);
    let down: Vec<JobId> = storage
        .get_descendants(root.id, 10)
        .await
        .unwrap()
        .iter()
        .map(|j| j.id)
        .collect();
    assert_eq!(down, vec![child.id, grandchild.id]);
    let near: Vec<JobId> = storage
        .get_descendants(root.id, 1)
        .await
        .unwrap()
        .iter()
        .map(|j| j.id)
        .collect();
    assert_eq!(near, vec![child.id]);
    assert!(storage.get_ancestors(root.id).await.unwrap().is_empty());
    let lineage = storage.get_lineage(child.id, 5).await.unwrap();
    assert_eq!(lineage.ancestors.len(), 1);
    assert_eq!(lineage.descendants.len(), 1);

    let tree = storage.get_spawn_tree(root.id, 10).await.unwrap();
    assert_eq!(tree.len(), 3);
    let json = tree.to_json();
    assert_eq!(json["id"], json!(root.id.to_string()));
    assert_eq!(json["children"][0]["id"], json!(child.id.to_string()));
    assert_eq!(
        json["children"][0]["children"][0]["id"],
        json!(grandchild.id.to_string())
    );
    assert_eq!(json["children"][0]["children"][0]["depth"], json!(2));
    let mermaid = tree.to_mermaid();
    assert!(mermaid.starts_with("graph TD"));
    assert_eq!(mermaid.matches("-->").count(), 2);
    assert!(tree.to_text().lines().count() == 3);
}

/// Stats over a window: operations, children, dead children and the mean,
/// filtered by the parents' queue and by time.
pub async fn spawn_stats_figures<S: Storage>(storage: S) {
    let start = now();
    for (queue, n) in [("stats_a", 3), ("stats_a", 5), ("stats_b", 2)] {
        storage.enqueue(Job::new(queue, json!({}))).await.unwrap();
        let children = (0..n).map(|i| Job::new("stats_child", json!(i))).collect();
        assert!(spawn_now(&storage, queue, SpawnConfig::new(), children)
            .await
            .unwrap());
    }
    let running = claim_all(&storage, "stats_child").await;
    assert_eq!(running.len(), 10);
    fail_permanently(&storage, &running[0]).await;
    for job in &running[1..] {
        complete(&storage, job, None).await;
    }
    let window = SpawnQuery::new().between(start - secs(1), now() + secs(1));
    let all = storage.spawn_stats(window.clone()).await.unwrap();
    assert_eq!(
        (all.operations, all.children, all.failed_children),
        (3, 10, 1)
    );
    assert!((all.mean_children_per_operation() - 10.0 / 3.0).abs() < 1e-9);
    let a = storage
        .spawn_stats(window.clone().queue("stats_a"))
        .await
        .unwrap();
    assert_eq!((a.operations, a.children), (2, 8));
    assert!((a.mean_children_per_operation() - 4.0).abs() < 1e-9);
    let later = SpawnQuery::new().between(now() + secs(60), now() + secs(120));
    assert_eq!(storage.spawn_stats(later).await.unwrap().operations, 0);
    let recent = storage
        .list_spawn_operations(SpawnQuery::new().limit(2))
        .await
        .unwrap();
    assert_eq!(recent.len(), 2);
    assert!(recent[0].created_at >= recent[1].created_at, "newest first");
    let b = storage
        .list_spawn_operations(SpawnQuery::new().queue("stats_b"))
        .await
        .unwrap();
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].child_count, 2);
}

/// The spec's decomposed workflow: spawned steps that depend on the parent and
/// on each other run in order.
pub async fn spawn_chain_runs_in_order<S: Storage + Clone + StorageDatabase>(storage: S) {
    let parent =
        Job::new("chain_parent", json!({"workflow_type": "etl"})).with_spawn_handler("pipeline");
    let done = run_parent(&storage, "chain_parent", parent.clone()).await;
    assert_eq!(
        done.status,
        JobStatus::Completed,
        "{:?}",
        done.error_message
    );
    let order = Arc::new(Mutex::new(Vec::new()));
    let seen = order.clone();
    let running = Worker::new(storage.clone(), "spawn_chain", move |ctx: JobContext| {
        let seen = seen.clone();
        async move {
            seen.lock()
                .unwrap()
                .push(ctx.payload["step"].as_str().unwrap().to_string());
            HandlerResult::Ok(None)
        }
    })
    .with_concurrency(4)
    .with_poll_interval(Duration::from_millis(20))
    .start();
    wait_for("the spawned chain to finish", || async {
        (storage.queue_counts("spawn_chain").await.unwrap().completed == 3).then_some(())
    })
    .await;
    running.shutdown().await;
    assert_eq!(*order.lock().unwrap(), vec!["extract", "transform", "load"]);
}

/// The stage held by an awaiting parent reads its spawned children's results
/// with `ctx.parent_results()`, beside its declared parent's, although its
/// `depends_on` holds only what was declared.
pub async fn spawn_await_children_results_reach_the_stage<S: Storage + Clone + StorageDatabase>(
    storage: S,
) {
    let parent = Job::new("awr_p", json!({}));
    let next = Job::new("awr_next", json!({}));
    let group = JobGroup::new("await_results")
        .add_job(parent.clone())
        .then(next.clone());
    storage.enqueue_workflow(group).await.unwrap();
    let children: Vec<Job> = (1..=2)
        .map(|n| Job::new("awr_c", json!({ "rows": n * 10 })))
        .collect();
    let awaiting = SpawnConfig::new().with_await_children(true);
    assert!(spawn_now(&storage, "awr_p", awaiting, children)
        .await
        .unwrap());
    for child in claim_all(&storage, "awr_c").await {
        complete(&storage, &child, Some(child.payload.clone())).await;
    }
    let running = Worker::new(storage.clone(), "awr_next", |ctx: JobContext| async move {
        let results = ctx.parent_results().await?;
        let rows: i64 = results
            .values()
            .flatten()
            .filter_map(|r| r["rows"].as_i64())
            .sum();
        Ok(Some(json!({ "parents": results.len(), "rows": rows })))
    })
    .with_poll_interval(Duration::from_millis(20))
    .start();
    let done = wait_for("the held stage to complete", || async {
        let job = get(&storage, next.id).await;
        (job.status == JobStatus::Completed).then_some(job)
    })
    .await;
    running.shutdown().await;
    assert_eq!(done.depends_on, vec![parent.id]);
    assert_eq!(done.result, Some(json!({ "parents": 3, "rows": 30 })));
}

/// A job enqueued to depend on a parent that completed while awaiting its
/// children waits for those children (and for the ones they await in turn),
/// as a dependent stored before the parent completed does; a parent that did
/// not await releases a later dependent at once.
pub async fn spawn_await_children_holds_later_dependents<S: Storage>(storage: S) {
    storage
        .enqueue(Job::new("late_p", json!({})))
        .await
        .unwrap();
    let awaiting = SpawnConfig::new().with_await_children(true);
    let (c1, c2) = (
        Job::new("late_c1", json!({})),
        Job::new("late_c2", json!({})),
    );
    assert!(spawn_now(
        &storage,
        "late_p",
        awaiting.clone(),
        vec![c1.clone(), c2.clone()]
    )
    .await
    .unwrap());
    let parent = storage
        .list_jobs(ListJobsParams::new().queue("late_p"))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(parent.status, JobStatus::Completed);
    let later = Job::new("late_next", json!({})).depends_on(&parent.id);
    storage.enqueue(later.clone()).await.unwrap();
    let held = |why: &'static str| {
        let storage = &storage;
        async move {
            assert!(
                claim_all(storage, "late_next").await.is_empty(),
                "the later dependent ran {why}"
            );
        }
    };
    held("with both children pending").await;
    let first = claim_all(&storage, "late_c1").await;
    complete(&storage, &first[0], None).await;
    held("with a child pending").await;
    let g = Job::new("late_g", json!({}));
    assert!(spawn_now(&storage, "late_c2", awaiting, vec![g.clone()])
        .await
        .unwrap());
    // Enqueued after the grandchild was spawned: waits for it too.
    let last = Job::new("late_last", json!({})).depends_on(&parent.id);
    storage.enqueue(last.clone()).await.unwrap();
    held("with a grandchild pending").await;
    assert!(claim_all(&storage, "late_last").await.is_empty());
    let stored = get(&storage, last.id).await;
    assert_eq!(stored.depends_on, vec![parent.id], "what it declared");
    assert_eq!(
        dependency_ids(&storage, last.id).await,
        sorted(vec![parent.id, c1.id, c2.id, g.id]),
        "what it waits on"
    );
    let dependents = storage.get_dependents(g.id).await.unwrap();
    assert!(
        dependents.iter().any(|job| job.id == last.id),
        "a grafted grandchild holds what waits on it"
    );
    let grandchild = claim_all(&storage, "late_g").await;
    complete(&storage, &grandchild[0], None).await;
    assert_eq!(claim_all(&storage, "late_next").await.len(), 1);
    assert_eq!(claim_all(&storage, "late_last").await.len(), 1);

    storage
        .enqueue(Job::new("late_free", json!({})))
        .await
        .unwrap();
    let not_awaiting = SpawnConfig::new();
    assert!(spawn_now(
        &storage,
        "late_free",
        not_awaiting,
        vec![Job::new("late_free_c", json!({}))]
    )
    .await
    .unwrap());
    let free = storage
        .list_jobs(ListJobsParams::new().queue("late_free"))
        .await
        .unwrap()
        .remove(0);
    let free_next = Job::new("late_free_next", json!({})).depends_on(&free.id);
    storage.enqueue(free_next).await.unwrap();
    assert_eq!(claim_all(&storage, "late_free_next").await.len(), 1);
}

/// A workflow's next stage waits for everything its parent spawned with
/// `await_children`, over three levels of nesting: it is released only when
/// the last great-grandchild finishes.
pub async fn spawn_await_children_holds_next_stage<S: Storage>(storage: S) {
    let parent = Job::new("aw_p", json!({}));
    let next = Job::new("aw_next", json!({}));
    let group = JobGroup::new("await")
        .add_job(parent.clone())
        .then(next.clone());
    let workflow = storage.enqueue_workflow(group).await.unwrap();
    let awaiting = || SpawnConfig::new().with_await_children(true);
    let held = |why: &'static str| {
        let storage = &storage;
        let next = next.id;
        async move {
            let job = get(storage, next).await;
            assert_eq!(
                job.dependency_status,
                DependencyStatus::Waiting,
                "released {why}"
            );
            assert!(
                claim_all(storage, "aw_next").await.is_empty(),
                "claimable {why}"
            );
        }
    };

    let (c1, c2) = (Job::new("aw_c1", json!({})), Job::new("aw_c2", json!({})));
    let (c1_id, c2_id) = (c1.id, c2.id);
    assert!(
        spawn_now(&storage, "aw_p", awaiting(), vec![c1.clone(), c2])
            .await
            .unwrap()
    );
    held("when the parent completed").await;
    let c2 = claim_all(&storage, "aw_c2").await;
    complete(&storage, &c2[0], None).await;
    held("with a child still running").await;
    let g = Job::new("aw_g", json!({}));
    let g_id = g.id;
    assert!(spawn_now(&storage, "aw_c1", awaiting(), vec![g])
        .await
        .unwrap());
    held("with a grandchild pending").await;
    let h = Job::new("aw_h", json!({}));
    assert!(spawn_now(&storage, "aw_g", awaiting(), vec![h.clone()])
        .await
        .unwrap());
    held("with a great-grandchild pending").await;
    assert_eq!(
        storage.get_workflow_status(workflow).await.unwrap(),
        WorkflowStatus::Running
    );
    // What the stage declared stays as written; the jobs grafted on it are
    // dependency edges, read with get_dependencies.
    assert_eq!(get(&storage, next.id).await.depends_on, vec![parent.id]);
    assert_eq!(
        dependency_ids(&storage, next.id).await,
        sorted(vec![parent.id, c1_id, c2_id, g_id, h.id])
    );

    let last = claim_all(&storage, "aw_h").await;
    complete(&storage, &last[0], None).await;
    assert_eq!(
        get(&storage, next.id).await.dependency_status,
        DependencyStatus::Satisfied
    );
    let running = claim_all(&storage, "aw_next").await;
    assert_eq!(running.len(), 1);
    complete(&storage, &running[0], None).await;
    assert_eq!(
        storage.get_workflow_status(workflow).await.unwrap(),
        WorkflowStatus::Completed
    );
}

/// A spawned descendant that dies fails the held stage and applies its
/// workflow's policy: under FailFast the workflow fails and its other
/// unfinished jobs are cancelled.
pub async fn spawn_await_children_failure_applies_policy<S: Storage>(storage: S) {
    let other = Job::new("awf_other", json!({}));
    let parent = Job::new("awf_p", json!({}));
    let next = Job::new("awf_next", json!({}));
    let group = JobGroup::new("await_fail")
        .add_job(other.clone())
        .add_job(parent)
        .then(next.clone())
        .with_failure_policy(FailurePolicy::FailFast);
    let workflow = storage.enqueue_workflow(group).await.unwrap();
    let child = Job::new("awf_c", json!({}));
    let config = SpawnConfig::new().with_await_children(true);
    assert!(spawn_now(&storage, "awf_p", config, vec![child])
        .await
        .unwrap());
    let running = claim_all(&storage, "awf_c").await;
    fail_permanently(&storage, &running[0]).await;

    assert_eq!(get(&storage, next.id).await.status, JobStatus::Dead);
    assert_eq!(
        storage.get_workflow_status(workflow).await.unwrap(),
        WorkflowStatus::Failed
    );
    assert_eq!(get(&storage, other.id).await.status, JobStatus::Cancelled);
}

/// A child that is skipped as it is written (its condition on the parent's
/// result is false) skips the stage held on it instead of leaving it waiting.
pub async fn spawn_await_children_skipped_child_skips_stage<S: Storage>(storage: S) {
    let parent = Job::new("aws_p", json!({}));
    let next = Job::new("aws_next", json!({}));
    let group = JobGroup::new("await_skip")
        .add_job(parent.clone())
        .then(next.clone());
    storage.enqueue_workflow(group).await.unwrap();
    let claimed = claim_all(&storage, "aws_p").await;
    let child = Job::new("aws_c", json!({}))
        .depends_on(&parent.id)
        .with_condition("go == true");
    let config = SpawnConfig::new()
        .with_handler("test")
        .with_await_children(true);
    let set = plan_spawn(&claimed[0], &config, vec![child.clone()], now()).unwrap();
    let result = Some(json!({"go": false}));
    assert!(storage
        .complete_and_spawn(lease_of(&claimed[0]), result, &set, now())
        .await
        .unwrap());
    assert_eq!(get(&storage, child.id).await.status, JobStatus::Skipped);
    assert_eq!(get(&storage, next.id).await.status, JobStatus::Skipped);
}

/// Under Manual, a held stage failed by a spawned child pauses the workflow;
/// `retry_workflow` re-runs the dead child too, and the stage then runs once
/// it completes.
pub async fn spawn_await_children_retry_reruns_dead_child<S: Storage>(storage: S) {
    let parent = Job::new("awr_p", json!({}));
    let next = Job::new("awr_next", json!({}));
    let group = JobGroup::new("await_retry")
        .add_job(parent)
        .then(next.clone())
        .with_failure_policy(FailurePolicy::Manual);
    let workflow = storage.enqueue_workflow(group).await.unwrap();
    let child = Job::new("awr_c", json!({}));
    let config = SpawnConfig::new().with_await_children(true);
    assert!(spawn_now(&storage, "awr_p", config, vec![child.clone()])
        .await
        .unwrap());
    let running = claim_all(&storage, "awr_c").await;
    fail_permanently(&storage, &running[0]).await;
    assert_eq!(
        storage.get_workflow_status(workflow).await.unwrap(),
        WorkflowStatus::Paused
    );

    assert!(storage.retry_workflow(workflow).await.unwrap() >= 2);
    assert_eq!(get(&storage, child.id).await.status, JobStatus::Pending);
    let held = get(&storage, next.id).await;
    assert_eq!(
        (held.status, held.dependency_status),
        (JobStatus::Pending, DependencyStatus::Waiting)
    );
    let rerun = claim_all(&storage, "awr_c").await;
    assert_eq!(rerun.len(), 1, "the dead child runs again");
    complete(&storage, &rerun[0], None).await;
    let stage = claim_all(&storage, "awr_next").await;
    assert_eq!(stage.len(), 1, "the stage runs once the child completed");
    complete(&storage, &stage[0], None).await;
    assert_eq!(
        storage.get_workflow_status(workflow).await.unwrap(),
        WorkflowStatus::Completed
    );
}

/// Cancelling a workflow cancels the spawned children its held stage awaits,
/// running ones included (their late outcome is ignored).
pub async fn spawn_await_children_cancel_reaches_children<S: Storage>(storage: S) {
    let parent = Job::new("awc_p", json!({}));
    let next = Job::new("awc_next", json!({}));
    let group = JobGroup::new("await_cancel").add_job(parent).then(next);
    let workflow = storage.enqueue_workflow(group).await.unwrap();
    let (a, b) = (Job::new("awc_c", json!("a")), Job::new("awc_c", json!("b")));
    let config = SpawnConfig::new().with_await_children(true);
    assert!(
        spawn_now(&storage, "awc_p", config, vec![a.clone(), b.clone()])
            .await
            .unwrap()
    );
    let t = now();
    let running = storage
        .claim_jobs(hammerwork::ClaimParams::new("awc_c", 1, t, t + secs(60)))
        .await
        .unwrap();
    assert_eq!(running.len(), 1);

    assert!(storage.cancel_workflow(workflow).await.unwrap());
    for child in [a.id, b.id] {
        assert_eq!(get(&storage, child).await.status, JobStatus::Cancelled);
    }
    let late = hammerwork::Settlement::new(
        lease_of(&running[0]),
        hammerwork::Outcome::Completed { result: None },
    );
    assert_eq!(storage.settle_jobs(&[late], now()).await.unwrap(), 0);
}

/// A child that depends on the very stage that awaits it would wait on it
/// forever: the spawn is refused as a cycle, nothing written, the parent
/// still running.
pub async fn spawn_await_children_cycle_is_refused<S: Storage>(storage: S) {
    let parent = Job::new("awy_p", json!({}));
    let next = Job::new("awy_next", json!({}));
    let group = JobGroup::new("await_cycle")
        .add_job(parent.clone())
        .then(next.clone());
    storage.enqueue_workflow(group).await.unwrap();
    let child = Job::new("awy_c", json!({})).depends_on(&next.id);
    let config = SpawnConfig::new().with_await_children(true);
    let err = spawn_now(&storage, "awy_p", config, vec![child.clone()])
        .await
        .unwrap_err();
    match err {
        Error::Cycle { path } => assert_eq!(path, vec![next.id, child.id, next.id]),
        other => panic!("expected a cycle, got {other}"),
    }
    assert_eq!(get(&storage, parent.id).await.status, JobStatus::Running);
    assert!(storage.get_job(child.id).await.unwrap().is_none());
    let held = get(&storage, next.id).await;
    assert_eq!(held.depends_on, vec![parent.id], "nothing grafted");
    assert_eq!(held.pending_dependencies, 1);

    // Further down: a child depending on a job that waits for the stage.
    let parent = Job::new("awz_p", json!({}));
    let next = Job::new("awz_next", json!({}));
    let after = Job::new("awz_after", json!({}));
    let last = Job::new("awz_last", json!({}));
    let group = JobGroup::new("await_cycle_deep")
        .add_job(parent.clone())
        .then(next.clone())
        .then(after.clone())
        .then(last.clone());
    storage.enqueue_workflow(group).await.unwrap();
    let child = Job::new("awz_c", json!({})).depends_on(&last.id);
    let config = SpawnConfig::new().with_await_children(true);
    let err = spawn_now(&storage, "awz_p", config, vec![child.clone()])
        .await
        .unwrap_err();
    match err {
        Error::Cycle { path } => assert_eq!(
            path,
            vec![next.id, child.id, last.id, after.id, next.id],
            "in dependency order"
        ),
        other => panic!("expected a cycle, got {other}"),
    }
    assert_eq!(get(&storage, parent.id).await.status, JobStatus::Running);
    assert!(storage.get_job(child.id).await.unwrap().is_none());
    assert_eq!(get(&storage, next.id).await.depends_on, vec![parent.id]);
}

/// Nothing after the handler leaves a job running for ever: a backoff too
/// long for any calendar (a fixed delay of `Duration::MAX`) and a spawn
/// delay too long to multiply still end the attempt, and the worker goes on
/// with the next job. Times past the year 9999 (beyond what MySQL stores)
/// are written as that.
pub async fn worker_huge_delays_never_leave_a_job_running<S: Storage + Clone + StorageDatabase>(
    storage: S,
) {
    let backoff = Job::new("huge", json!({"kind": "backoff"}))
        .with_max_attempts(3)
        .with_retry_policy(hammerwork::RetryPolicy::Fixed {
            delay: Duration::MAX,
        });
    let spawner = Job::new("huge", json!({"kind": "spawn"}))
        .with_spawn_handler("fan")
        .with_spawn_config(SpawnConfig::new().with_spawn_delay(Duration::from_secs(u64::MAX / 4)));
    let plain = Job::new("huge", json!({"kind": "plain"}));
    storage
        .enqueue_many(vec![backoff.clone(), spawner.clone(), plain.clone()])
        .await
        .unwrap();
    let running = Worker::new(storage.clone(), "huge", |ctx: JobContext| async move {
        if ctx.payload["kind"] == "backoff" {
            return Err("failed on purpose".into());
        }
        HandlerResult::Ok(None)
    })
    .with_spawn_manager(manager::<S::Database>())
    .with_poll_interval(Duration::from_millis(20))
    .start();
    let ended = wait_for("the three jobs to leave Running", || async {
        let mut jobs = Vec::new();
        for id in [backoff.id, spawner.id, plain.id] {
            let job = storage.get_job(id).await.unwrap().expect("job exists");
            if matches!(job.status, JobStatus::Pending | JobStatus::Running) {
                return None;
            }
            jobs.push(job);
        }
        Some(jobs)
    })
    .await;
    running.shutdown().await;
    let latest = "9999-12-31T23:59:59.999999Z"
        .parse::<chrono::DateTime<chrono::Utc>>()
        .unwrap();
    assert_eq!(ended[0].status, JobStatus::Retrying, "{:?}", ended[0]);
    assert_eq!(ended[0].error_message.as_deref(), Some("failed on purpose"));
    assert_eq!(ended[0].scheduled_at, latest);
    assert_eq!(ended[1].status, JobStatus::Completed, "{:?}", ended[1]);
    let children = storage.get_children(spawner.id).await.unwrap();
    assert_eq!(children.len(), 5);
    assert!(
        children.iter().skip(1).all(|c| c.scheduled_at == latest),
        "{children:?}"
    );
    assert_eq!(ended[2].status, JobStatus::Completed);
}

/// A spawn handler that panics fails its parent's attempt with the panic's
/// message (retried like any failure); the job is never left running.
pub async fn worker_panicking_spawn_handler_fails_the_attempt<
    S: Storage + Clone + StorageDatabase,
>(
    storage: S,
) {
    let parent = Job::new("panicky", json!({}))
        .with_max_attempts(1)
        .with_spawn_handler("panics");
    storage.enqueue(parent.clone()).await.unwrap();
    let mut manager = manager::<S::Database>();
    manager.register_handler("panics", Panics);
    let running = Worker::new(storage.clone(), "panicky", |_: JobContext| async {
        HandlerResult::Ok(None)
    })
    .with_spawn_manager(manager)
    .with_poll_interval(Duration::from_millis(20))
    .start();
    let ended = wait_for("the parent to end", || async {
        let job = storage
            .get_job(parent.id)
            .await
            .unwrap()
            .expect("job exists");
        (job.status == JobStatus::Dead).then_some(job)
    })
    .await;
    running.shutdown().await;
    let error = ended.error_message.unwrap_or_default();
    assert!(
        error.contains("panicked: the spawn handler broke"),
        "{error}"
    );
    assert!(storage.get_children(parent.id).await.unwrap().is_empty());
}

/// A spawn handler that panics.
struct Panics;

#[async_trait]
impl<DB: 'static> SpawnHandler<DB> for Panics {
    async fn spawn_jobs(&self, _: SpawnContext<DB>) -> hammerwork::Result<Vec<Job>> {
        panic!("the spawn handler broke")
    }
}

/// The ids of the jobs `id` depends on (declared or grafted), sorted.
async fn dependency_ids<S: Storage>(storage: &S, id: JobId) -> Vec<JobId> {
    let jobs = storage.get_dependencies(id).await.unwrap();
    sorted(jobs.into_iter().map(|job| job.id).collect())
}

fn sorted(mut ids: Vec<JobId>) -> Vec<JobId> {
    ids.sort_unstable();
    ids
}
