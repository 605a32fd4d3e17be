//! Spawning on SQLite: `complete_and_spawn` writes the parent's completion,
//! the operation record and the children in one transaction, and the read
//! methods walk the tree. (The conformance suite covers the shared contract;
//! these check the SQLite-specific encoding: text ids, microsecond times,
//! JSON text metadata.)

use chrono::{DateTime, Duration, SubsecRound, Utc};
use hammerwork_api::spawn::{plan_spawn, SpawnConfig, SpawnError, SpawnQuery, SpawnSet};
use hammerwork_api::workflow::JobGroup;
use hammerwork_api::{
    ClaimParams, DatabaseQueue, DependencyStatus, Error, Job, JobStatus, Lease, Outcome,
    Settlement, Storage, StorageDatabase,
};
use hammerwork_sqlite::SqliteStorage;
use serde_json::json;

async fn memory() -> SqliteStorage {
    let storage = SqliteStorage::connect("sqlite::memory:")
        .await
        .expect("open in-memory database");
    storage.migrate().await.expect("migrate");
    storage
}

fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// Enqueues `job` and claims it: the running job and its lease.
async fn running(storage: &SqliteStorage, mut job: Job, at: DateTime<Utc>) -> (Job, Lease) {
    job.scheduled_at = at;
    let queue = job.queue_name.clone();
    storage.enqueue(job).await.unwrap();
    let mut claimed = storage
        .claim_jobs(ClaimParams::new(&queue, 1, at, at + Duration::seconds(30)))
        .await
        .unwrap();
    let job = claimed.pop().expect("claimed");
    let lease = Lease::of(&job);
    (job, lease)
}

fn plan(parent: &Job, config: SpawnConfig, children: Vec<Job>, at: DateTime<Utc>) -> SpawnSet {
    plan_spawn(parent, &config.with_handler("splitter"), children, at).unwrap()
}

#[test]
fn the_database_is_sqlite() {
    fn database<S: StorageDatabase<Database = sqlx::Sqlite>>() {}
    database::<SqliteStorage>();
    database::<std::sync::Arc<SqliteStorage>>();
}

#[tokio::test]
async fn spawn_writes_parent_operation_and_children_at_once() {
    let storage = memory().await;
    let at = now();
    let (parent, lease) = running(&storage, Job::new("parents", json!({"n": 5})), at).await;
    let mut children: Vec<Job> = (0..5).map(|i| Job::new("kids", json!(i))).collect();
    children[4] = children[4]
        .clone()
        .depends_on_jobs([parent.id, children[0].id]);
    let config = SpawnConfig::new()
        .with_batch_size(2)
        .with_metadata(json!({"source": "test"}));
    let spawn = plan(&parent, config, children.clone(), at);
    let mut listener = storage.listen().await.unwrap().unwrap();

    let done = storage
        .complete_and_spawn(lease, Some(json!({"ok": 1})), &spawn, at)
        .await
        .unwrap();
    assert!(done);
    assert_eq!(listener.recv().await.as_deref(), Some("kids"));

    let stored = storage.get_job(parent.id).await.unwrap().unwrap();
    assert_eq!(stored.status, JobStatus::Completed);
    assert_eq!(stored.result, Some(json!({"ok": 1})));

    let op = storage
        .get_spawn_operation(&spawn.operation.id)
        .await
        .unwrap()
        .expect("operation stored");
    assert_eq!(op, spawn.operation);
    assert_eq!((op.child_count, op.batch_count), (5, 3));
    assert_eq!(op.metadata, Some(json!({"source": "test"})));

    for child in &spawn.children {
        let got = storage.get_job(child.id).await.unwrap().unwrap();
        assert_eq!(got.parent_job_id, Some(parent.id));
        assert_eq!(got.spawn_operation_id.as_deref(), Some(op.id.as_str()));
        assert_eq!(got.spawn_depth, 1);
    }
    // The parent completed first: only the sibling dependency is left.
    let last = storage.get_job(children[4].id).await.unwrap().unwrap();
    assert_eq!(last.dependency_status, DependencyStatus::Waiting);
    assert_eq!(last.pending_dependencies, 1);

    // A repeated call spawns nothing.
    let again = storage
        .complete_and_spawn(lease, None, &spawn, at)
        .await
        .unwrap();
    assert!(!again);
    assert_eq!(storage.queue_counts("kids").await.unwrap().pending, 5);
    assert_eq!(storage.get_children(parent.id).await.unwrap().len(), 5);
}

#[tokio::test]
async fn a_failed_spawn_writes_nothing() {
    let storage = memory().await;
    let at = now();
    let (first, lease) = running(&storage, Job::new("p", json!(1)), at).await;
    let config = SpawnConfig::new().with_operation_id("op-1");
    let spawn = plan(&first, config.clone(), vec![Job::new("c", json!(1))], at);
    assert!(storage
        .complete_and_spawn(lease, None, &spawn, at)
        .await
        .unwrap());

    // The same operation id again: refused, the parent still running.
    let (second, lease) = running(&storage, Job::new("p", json!(2)), at).await;
    let spawn = plan(&second, config, vec![Job::new("c", json!(2))], at);
    let err = storage
        .complete_and_spawn(lease, None, &spawn, at)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Spawn(SpawnError::DuplicateOperation { id }) if id == "op-1"),
        "{err:?}"
    );
    let stored = storage.get_job(second.id).await.unwrap().unwrap();
    assert_eq!(stored.status, JobStatus::Running);
    assert!(storage
        .get_job(spawn.children[0].id)
        .await
        .unwrap()
        .is_none());

    // A child with a missing dependency: refused, nothing written.
    let missing = Job::new("c", json!(3)).depends_on(&Job::new("x", json!(0)).id);
    let spawn = plan(&second, SpawnConfig::new(), vec![missing], at);
    assert!(storage
        .complete_and_spawn(lease, None, &spawn, at)
        .await
        .is_err());
    let stored = storage.get_job(second.id).await.unwrap().unwrap();
    assert_eq!(stored.status, JobStatus::Running);
    assert!(storage
        .get_spawn_operation(&spawn.operation.id)
        .await
        .unwrap()
        .is_none());
    assert!(storage
        .get_job(spawn.children[0].id)
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn trees_lineage_listing_and_stats() {
    let storage = memory().await;
    let t0 = now();
    let (root, lease) = running(&storage, Job::new("tree", json!("root")), t0).await;
    let kids: Vec<Job> = (0..2).map(|i| Job::new("tree", json!(i))).collect();
    let spawn = plan(&root, SpawnConfig::new(), kids, t0);
    assert!(storage
        .complete_and_spawn(lease, None, &spawn, t0)
        .await
        .unwrap());

    // The first child spawns two grandchildren, later.
    let t1 = t0 + Duration::minutes(5);
    let mut claimed = storage
        .claim_jobs(ClaimParams::new("tree", 1, t1, t1 + Duration::seconds(30)))
        .await
        .unwrap();
    let child = claimed.pop().unwrap();
    assert_eq!(child.id, spawn.children[0].id);
    let grandkids: Vec<Job> = (0..2).map(|i| Job::new("leaves", json!(i))).collect();
    let lease = Lease::of(&child);
    let spawn2 = plan(&child, SpawnConfig::new(), grandkids, t1);
    assert!(storage
        .complete_and_spawn(lease, None, &spawn2, t1)
        .await
        .unwrap());

    let ids = |jobs: Vec<Job>| jobs.into_iter().map(|j| j.id).collect::<Vec<_>>();
    let mut level1 = ids(spawn.children.clone());
    level1.sort();
    let mut level2 = ids(spawn2.children.clone());
    level2.sort();
    assert_eq!(
        ids(storage.get_descendants(root.id, 10).await.unwrap()),
        [level1.clone(), level2.clone()].concat()
    );
    assert_eq!(
        ids(storage.get_descendants(root.id, 1).await.unwrap()),
        level1
    );
    assert!(storage
        .get_descendants(root.id, 0)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        ids(storage.get_ancestors(level2[0]).await.unwrap()),
        [child.id, root.id]
    );
    assert!(storage.get_ancestors(root.id).await.unwrap().is_empty());
    let tree = storage.get_spawn_tree(root.id, 10).await.unwrap();
    assert_eq!(tree.len(), 5);

    // Newest first; windows compare stored microseconds.
    let ops = storage
        .list_spawn_operations(SpawnQuery::new())
        .await
        .unwrap();
    assert_eq!(
        ops.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(),
        [spawn2.operation.id.as_str(), spawn.operation.id.as_str()]
    );
    let early = SpawnQuery::new().between(t0, t1);
    let ops = storage.list_spawn_operations(early.clone()).await.unwrap();
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0].id, spawn.operation.id);
    assert_eq!(
        storage
            .list_spawn_operations(SpawnQuery::new().limit(1))
            .await
            .unwrap()[0]
            .id,
        spawn2.operation.id
    );
    assert!(storage
        .list_spawn_operations(SpawnQuery::new().queue("nowhere"))
        .await
        .unwrap()
        .is_empty());

    // A dead grandchild counts as a failed child of its operation.
    let t2 = t1 + Duration::minutes(1);
    let leaf = storage
        .claim_jobs(ClaimParams::new(
            "leaves",
            1,
            t2,
            t2 + Duration::seconds(30),
        ))
        .await
        .unwrap()
        .pop()
        .unwrap();
    let failed = Settlement::new(
        Lease::of(&leaf),
        Outcome::Failed {
            error: "boom".into(),
            retry_at: None,
        },
    );
    assert_eq!(storage.settle_jobs(&[failed], t2).await.unwrap(), 1);
    let all = storage.spawn_stats(SpawnQuery::new()).await.unwrap();
    assert_eq!(
        (all.operations, all.children, all.failed_children),
        (2, 4, 1)
    );
    let first = storage.spawn_stats(early).await.unwrap();
    assert_eq!(
        (first.operations, first.children, first.failed_children),
        (1, 2, 0)
    );
    let none = storage
        .spawn_stats(SpawnQuery::new().queue("nowhere"))
        .await
        .unwrap();
    assert_eq!((none.operations, none.children), (0, 0));
}

/// The query plan of `sql` with `binds` (text parameters).
async fn plan_of(storage: &SqliteStorage, sql: &str, binds: &[Option<&str>]) -> Vec<String> {
    let sql = format!("EXPLAIN QUERY PLAN {sql}");
    let mut query = sqlx::query(&sql);
    for bind in binds {
        query = query.bind(*bind);
    }
    query
        .fetch_all(storage.pool())
        .await
        .unwrap()
        .iter()
        .map(|row| sqlx::Row::get::<String, _>(row, "detail"))
        .collect()
}

#[tokio::test]
async fn walks_and_stats_read_the_spawn_indexes() {
    let storage = memory().await;
    let uses = |details: &[String], index: &str| details.iter().any(|d| d.contains(index));
    let descendants = plan_of(
        &storage,
        include_str!("../queries/get_descendants.sql"),
        &[Some("x"), Some("3")],
    )
    .await;
    assert!(
        uses(&descendants, "hammerwork_jobs_parent"),
        "{descendants:?}"
    );
    let stats = plan_of(
        &storage,
        include_str!("../queries/spawn_stats.sql"),
        &[None, None, None],
    )
    .await;
    assert!(uses(&stats, "hammerwork_jobs_spawn_operation"), "{stats:?}");
}

/// Reaching a workflow's grafted children (retry, cancellation) stays index
/// lookups: the workflow's jobs by workflow, their parents by primary key.
#[tokio::test]
async fn reaching_grafted_children_reads_indexes() {
    let storage = memory().await;
    // Only the json_each virtual tables (a parameter, a row's depends_on) and
    // the recount's materialized counts are scanned, never a table.
    let scans_a_table = |d: &String| {
        d.starts_with("SCAN ") && !d.contains("VIRTUAL TABLE") && d.as_str() != "SCAN c"
    };
    let queries = [
        (
            include_str!("../queries/cancel_workflow_jobs.sql"),
            &[Some(r#"["w"]"#), Some("why"), Some("0")][..],
        ),
        (
            include_str!("../queries/reset_workflow_jobs_targets.sql"),
            &[Some("w")][..],
        ),
        (
            include_str!("../queries/recount_dependencies.sql"),
            &[Some("w"), Some(r#"["x"]"#)][..],
        ),
    ];
    for (sql, binds) in queries {
        let details = plan_of(&storage, sql, binds).await;
        assert!(
            details
                .iter()
                .any(|d| d.contains("USING INDEX hammerwork_jobs_workflow")),
            "{details:?}"
        );
        assert!(!details.iter().any(scans_a_table), "{details:?}");
    }
}

/// Enqueues a workflow `parent` then `next` and claims `parent`.
async fn held_stage(storage: &SqliteStorage, at: DateTime<Utc>) -> (Job, Lease, Job) {
    // The group schedules its jobs no earlier than its own creation.
    let parent = Job::new("aw_parent", json!({}));
    let at = at.max(now()) + Duration::seconds(1);
    let next = Job::new("aw_next", json!({}));
    let group = JobGroup::new("held")
        .add_job(parent.clone())
        .then(next.clone());
    storage.enqueue_workflow(group).await.unwrap();
    let parent = storage
        .claim_jobs(ClaimParams::new(
            "aw_parent",
            1,
            at,
            at + Duration::seconds(30),
        ))
        .await
        .unwrap()
        .pop()
        .expect("claimed");
    let lease = Lease::of(&parent);
    (parent, lease, next)
}

#[tokio::test]
async fn awaiting_children_grafts_them_onto_the_held_stage() {
    let storage = memory().await;
    let at = now();
    let (parent, lease, next) = held_stage(&storage, at).await;
    let awaiting = SpawnConfig::new().with_await_children(true);
    let kids: Vec<Job> = (0..3).map(|i| Job::new("aw_kids", json!(i))).collect();
    let spawn = plan(&parent, awaiting.clone(), kids, at);

    // A stale attempt grafts nothing.
    let stale = Lease {
        id: lease.id,
        claim: lease.claim + 1,
    };
    assert!(!storage
        .complete_and_spawn(stale, None, &spawn, at)
        .await
        .unwrap());
    let held = storage.get_job(next.id).await.unwrap().unwrap();
    assert_eq!(held.depends_on, vec![parent.id]);
    assert_eq!(held.pending_dependencies, 1);

    assert!(storage
        .complete_and_spawn(lease, None, &spawn, at)
        .await
        .unwrap());
    let held = storage.get_job(next.id).await.unwrap().unwrap();
    assert_eq!(held.depends_on, vec![parent.id], "grafts are edges only");
    let mut expected = vec![parent.id];
    expected.extend(spawn.children.iter().map(|c| c.id));
    expected.sort_unstable();
    let waits_on: Vec<hammerwork_api::JobId> = storage
        .get_dependencies(next.id)
        .await
        .unwrap()
        .iter()
        .map(|job| job.id)
        .collect();
    assert_eq!(waits_on, expected, "the children grafted as edges");
    assert_eq!(held.pending_dependencies, 3);
    assert_eq!(held.dependency_status, DependencyStatus::Waiting);
}

#[tokio::test]
async fn a_child_dead_at_once_fails_the_held_stage() {
    let storage = memory().await;
    let at = now();
    let (failed, failed_lease) = running(&storage, Job::new("aw_dead", json!({})), at).await;
    let dead = Settlement::new(
        failed_lease,
        Outcome::Failed {
            error: "boom".into(),
            retry_at: None,
        },
    );
    assert_eq!(storage.settle_jobs(&[dead], at).await.unwrap(), 1);

    let (parent, lease, next) = held_stage(&storage, at).await;
    let child = Job::new("aw_kids", json!({})).depends_on(&failed.id);
    let awaiting = SpawnConfig::new().with_await_children(true);
    let spawn = plan(&parent, awaiting, vec![child.clone()], at);
    assert!(storage
        .complete_and_spawn(lease, None, &spawn, at)
        .await
        .unwrap());
    let child = storage.get_job(child.id).await.unwrap().unwrap();
    assert_eq!(child.status, JobStatus::Dead);
    let held = storage.get_job(next.id).await.unwrap().unwrap();
    assert_eq!(held.status, JobStatus::Dead);
    assert_eq!(held.dependency_status, DependencyStatus::Failed);
}
