//! What the conformance suite cannot see: PostgreSQL-specific promises of
//! `PostgresStorage` (how many connections it takes).

use std::time::Duration;

use hammerwork::{
    DatabaseQueue, HandlerResult, Job, JobContext, JobStatus, Storage, Worker, WorkerPool,
};
use hammerwork_postgres::PostgresStorage;
use hammerwork_testkit::provision::{postgres_url, unique_name, DatabaseKind, FreshDatabase};
use serde_json::json;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

/// Forty workers, one per queue, share a pool of five connections: waiting
/// for wakeups takes no pooled connection (one LISTEN connection per storage,
/// outside the pool), so claims, settles and enqueues still get theirs and
/// every job completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_workers_share_a_small_pool() {
    let pool_of_five = PgPoolOptions::new()
        .max_connections(5)
        .acquire_timeout(Duration::from_secs(5));
    let (storage, pool, schema) = schema_with("small_pool", pool_of_five).await;

    let mut workers = WorkerPool::new();
    for q in 0..40 {
        workers = workers.add_worker(
            Worker::new(storage.clone(), format!("q{q}"), |_: JobContext| async {
                HandlerResult::Ok(None)
            })
            .with_concurrency(1),
        );
    }
    let running = workers.start();
    let mut ids = Vec::new();
    for q in 0..40 {
        ids.push(
            storage
                .enqueue(Job::new(format!("q{q}"), json!(q)))
                .await
                .unwrap(),
        );
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let mut done = 0;
        for id in &ids {
            let job = storage.get_job(*id).await.unwrap().unwrap();
            done += usize::from(job.status == JobStatus::Completed);
        }
        if done == ids.len() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{done} of 40 jobs completed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    running.shutdown().await;
    drop_schema(pool, &schema).await;
}

/// The LISTEN connection comes back after the server dropped it (a restart,
/// a failover, an idle timeout): a subscriber hears of jobs enqueued after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wakeups_survive_a_dropped_listen_connection() {
    let options = PgPoolOptions::new().max_connections(3);
    let (storage, pool, schema) = schema_with("listen_again", options).await;
    let mut wakeups = storage
        .listen()
        .await
        .unwrap()
        .expect("PostgreSQL pushes wakeups");

    let killed: i64 = sqlx::query_scalar(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE query ILIKE 'LISTEN %' AND query LIKE '%' || $1 || '%'",
    )
    .bind(&schema)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(killed, 1, "one LISTEN connection for the storage");

    // Notifications sent while it reconnects are lost (and "" says so):
    // enqueue until one arrives, for at most ten seconds.
    let heard = async {
        loop {
            storage.enqueue(Job::new("after", json!({}))).await.unwrap();
            let next = tokio::time::timeout(Duration::from_millis(200), async {
                loop {
                    match wakeups.recv().await {
                        Some(queue) if queue == "after" => return true,
                        Some(_) => continue,
                        None => return false,
                    }
                }
            });
            match next.await {
                Ok(true) => return true,
                Ok(false) => return false,
                Err(_) => continue,
            }
        }
    };
    let heard = tokio::time::timeout(Duration::from_secs(10), heard).await;
    assert_eq!(
        heard,
        Ok(true),
        "no wakeup after the LISTEN connection dropped"
    );
    drop(wakeups);
    drop_schema(pool, &schema).await;
}

/// A fresh schema with a migrated storage on it (a pool of six);
/// `drop_schema` removes it.
async fn schema(test: &str) -> (PostgresStorage, sqlx::PgPool, String) {
    schema_with(test, PgPoolOptions::new().max_connections(6)).await
}

/// A fresh schema with a migrated storage on it, through a pool built with
/// `pool`.
async fn schema_with(test: &str, pool: PgPoolOptions) -> (PostgresStorage, sqlx::PgPool, String) {
    let url = postgres_url();
    let schema = unique_name(test);
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .unwrap();
    sqlx::raw_sql(&format!("CREATE SCHEMA {schema}"))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    let options: PgConnectOptions = url.parse().unwrap();
    let pool = pool
        .connect_with(options.options([("search_path", schema.as_str())]))
        .await
        .unwrap();
    let storage = PostgresStorage::from_pool(pool.clone()).await.unwrap();
    storage.migrate().await.unwrap();
    (storage, pool, schema)
}

/// Migrators racing on a fresh schema take turns (the setup script's
/// advisory lock), record each migration once, and running again changes
/// nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_concurrently_and_idempotently() {
    let (storage, pool, schema) = schema("migrate_race").await;
    sqlx::raw_sql(&format!(
        "DROP SCHEMA {schema} CASCADE; CREATE SCHEMA {schema}"
    ))
    .execute(&pool)
    .await
    .unwrap();
    let racers: Vec<_> = (0..4)
        .map(|_| {
            let storage = storage.clone();
            tokio::spawn(async move { storage.migrate().await })
        })
        .collect();
    for racer in racers {
        racer.await.unwrap().expect("concurrent migrate");
    }
    storage.migrate().await.expect("migrate again");
    let versions: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM hammerwork_migrations ORDER BY version")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(versions, (1..=13).collect::<Vec<i64>>());
    storage
        .enqueue(Job::new("after_race", json!({})))
        .await
        .expect("the raced schema works");
}

/// A workflow retry recounts each pending job's unfinished parents while a
/// parent completes concurrently: the recount waits for that parent's
/// transaction and counts it as done, so the dependent is not left waiting
/// for a parent that finished.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_recount_sees_a_parent_completing_concurrently() {
    use hammerwork::{ClaimParams, FailurePolicy, JobGroup, Lease, Outcome, Settlement};
    let (storage, pool, schema) = schema("recount_race").await;
    let (p, q) = (Job::new("race", json!("p")), Job::new("race", json!("q")));
    let child = Job::new("race_child", json!({}))
        .depends_on(&p.id)
        .depends_on(&q.id);
    let group = JobGroup::new("race")
        .add_parallel_jobs(vec![p.clone(), q.clone().with_max_attempts(1)])
        .add_job(child.clone())
        .with_failure_policy(FailurePolicy::ContinueOnFailure);
    let workflow = storage.enqueue_workflow(group).await.unwrap();
    let now = chrono::Utc::now();
    let claimed = storage
        .claim_jobs(ClaimParams::new(
            "race",
            10,
            now,
            now + chrono::Duration::seconds(60),
        ))
        .await
        .unwrap();
    let q_lease = claimed
        .iter()
        .find(|j| j.id == q.id)
        .map(Lease::of)
        .unwrap();
    let failed = Outcome::Failed {
        error: "boom".into(),
        retry_at: None,
    };
    storage
        .settle_jobs(&[Settlement::new(q_lease, failed)], now)
        .await
        .unwrap();
    assert_eq!(
        storage.get_job(child.id).await.unwrap().unwrap().status,
        JobStatus::Dead
    );

    // p completes in a transaction that is still open while the retry runs
    // (its dependent is dead then, so it releases nothing).
    let mut settle = pool.begin().await.unwrap();
    sqlx::query("UPDATE hammerwork_jobs SET status = 'completed' WHERE id = $1")
        .bind(p.id.0)
        .execute(&mut *settle)
        .await
        .unwrap();
    let retry = tokio::spawn({
        let storage = storage.clone();
        async move { storage.retry_workflow(workflow).await }
    });
    // Commit p once the retry waits for it, or once the retry ended without
    // waiting (as it did before the recount locked the parents it reads).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' \
             AND query LIKE '%hammerwork_job_dependencies%'",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        if waiting > 0 || retry.is_finished() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the retry neither waited nor ended"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    settle.commit().await.unwrap();
    assert_eq!(
        retry.await.unwrap().unwrap(),
        2,
        "q and the child start over"
    );
    let child = storage.get_job(child.id).await.unwrap().unwrap();
    assert_eq!(
        child.pending_dependencies, 1,
        "the child waits for q only: {child:?}"
    );
    drop_schema(pool, &schema).await;
}

async fn drop_schema(pool: sqlx::PgPool, schema: &str) {
    pool.close().await;
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect(&postgres_url())
        .await
        .unwrap();
    sqlx::raw_sql(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&admin)
        .await
        .unwrap();
}

/// A claimed row that cannot be read ends alone, dead with the reason; its
/// batch-mates run (the claim failed as a whole before, leaving all three
/// running).
#[tokio::test]
async fn unreadable_claimed_row_ends_alone() {
    let (storage, pool, schema) = schema("unreadable_row").await;
    hammerwork_testkit::stored::unreadable_row_ends_alone(storage, |id, policy| {
        let pool = pool.clone();
        async move {
            sqlx::query("UPDATE hammerwork_jobs SET retry_policy = $1::jsonb WHERE id = $2")
                .bind(policy)
                .bind(id.0)
                .execute(&pool)
                .await
                .unwrap();
        }
    })
    .await;
    drop_schema(pool, &schema).await;
}

/// A recurring series whose next occurrence is refused is backed off (1 s,
/// 2 s, 4 s ...) rather than tried every tick; the others move.
#[tokio::test]
async fn failing_series_backs_off() {
    let (storage, pool, schema) = schema("failing_series").await;
    let lenient = storage
        .clone()
        .with_limits(hammerwork_api::Limits::default().with_max_payload_bytes(4 << 20));
    hammerwork_testkit::stored::failing_series_backs_off(storage, lenient).await;
    drop_schema(pool, &schema).await;
}

/// A workflow cancel that runs while a parent of it completes and grafts
/// awaited children (as `complete_and_spawn` does) cancels those children
/// too: its first statement waits for the parent's transaction and cannot see
/// the children that transaction wrote, so the engine cancels again until a
/// round finds nothing (the children were left pending before, running for
/// a cancelled workflow).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workflow_cancel_reaches_children_grafted_concurrently() {
    use hammerwork::{ClaimParams, JobGroup};
    let (storage, pool, schema) = schema("cancel_graft").await;
    let parent = Job::new("graft_p", json!({}));
    let next = Job::new("graft_next", json!({}));
    let group = JobGroup::new("graft")
        .add_job(parent.clone())
        .then(next.clone());
    let workflow = storage.enqueue_workflow(group).await.unwrap();
    let now = chrono::Utc::now();
    let claimed = storage
        .claim_jobs(ClaimParams::new(
            "graft_p",
            1,
            now,
            now + chrono::Duration::seconds(60),
        ))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);

    // The spawning transaction, held open: the parent locked as the spawn
    // locks it, an awaited child written and grafted onto `next`.
    let mut spawn = pool.begin().await.unwrap();
    sqlx::query("SELECT id FROM hammerwork_jobs WHERE id = $1 FOR UPDATE")
        .bind(parent.id.0)
        .execute(&mut *spawn)
        .await
        .unwrap();
    let mut child = Job::new("graft_child", json!({}));
    child.parent_job_id = Some(parent.id);
    storage
        .enqueue_jobs_in(&mut spawn, std::slice::from_ref(&child))
        .await
        .unwrap();
    sqlx::query("INSERT INTO hammerwork_job_dependencies (parent_id, job_id) VALUES ($1, $2); ")
        .bind(child.id.0)
        .bind(next.id.0)
        .execute(&mut *spawn)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE hammerwork_jobs SET pending_dependencies = pending_dependencies + 1 \
         WHERE id = $1",
    )
    .bind(next.id.0)
    .execute(&mut *spawn)
    .await
    .unwrap();
    sqlx::query("UPDATE hammerwork_jobs SET status = 'completed' WHERE id = $1")
        .bind(parent.id.0)
        .execute(&mut *spawn)
        .await
        .unwrap();

    let cancel = tokio::spawn({
        let storage = storage.clone();
        async move { storage.cancel_workflow(workflow).await }
    });
    // Commit the spawn once the cancel waits for it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' \
             AND query LIKE '%cancelled%'",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        if waiting > 0 {
            break;
        }
        assert!(
            !cancel.is_finished(),
            "the cancel did not wait for the spawn"
        );
        assert!(
            tokio::time::Instant::now() < deadline,
            "the cancel never waited"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    spawn.commit().await.unwrap();
    assert!(cancel.await.unwrap().unwrap());
    let status = |id| {
        let storage = storage.clone();
        async move { storage.get_job(id).await.unwrap().unwrap().status }
    };
    assert_eq!(status(next.id).await, JobStatus::Cancelled);
    assert_eq!(
        status(child.id).await,
        JobStatus::Cancelled,
        "the grafted child outlived its workflow's cancel"
    );
    drop_schema(pool, &schema).await;
}

/// Dead row versions of the jobs table, as the statistics last saw them.
async fn dead_rows(pool: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar(
        "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relid = 'hammerwork_jobs'::regclass",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

/// Writes every job twice on one connection and flushes its statistics:
/// two dead versions per job.
async fn write_every_job_twice(pool: &sqlx::PgPool) {
    let mut conn = pool.acquire().await.unwrap();
    for _ in 0..2 {
        sqlx::query("UPDATE hammerwork_jobs SET attempts = attempts + 1")
            .execute(&mut *conn)
            .await
            .unwrap();
    }
    sqlx::query("SELECT pg_stat_force_next_flush()")
        .execute(&mut *conn)
        .await
        .unwrap();
}

/// Calls `reclaim_space` until it vacuums: the statistics reach the
/// server's view asynchronously (a bounded poll).
async fn reclaim_when_seen(storage: &PostgresStorage, pool: &sqlx::PgPool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !storage.reclaim_space().await.unwrap() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "never vacuumed; {} dead rows seen",
            dead_rows(pool).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every write of a job leaves a dead row version (and claim-index entries
/// claims walk past) until a vacuum, which the server's autovacuum may never
/// run (it is off on our test servers). `reclaim_space` vacuums the jobs
/// table once 50,000 plus a tenth of the live rows are dead, and not before.
///
/// In a database of its own: a vacuum keeps the row versions that any open
/// transaction in the same database may still see, and the other tests of
/// this file run at the same time in the shared one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reclaim_space_vacuums_the_dead_rows_of_finished_jobs() {
    let db = FreshDatabase::new(DatabaseKind::Postgres, "reclaim").await;
    let pool = PgPoolOptions::new()
        .max_connections(6)
        .connect(&db.url)
        .await
        .unwrap();
    let storage = PostgresStorage::from_pool(pool.clone()).await.unwrap();
    storage.migrate().await.unwrap();
    // On a server whose autovacuum runs, it must not vacuum first.
    sqlx::raw_sql("ALTER TABLE hammerwork_jobs SET (autovacuum_enabled = off)")
        .execute(&pool)
        .await
        .unwrap();
    let jobs: Vec<Job> = (0..30_000).map(|i| Job::new("reclaim", json!(i))).collect();
    storage.enqueue_many(jobs).await.unwrap();
    assert!(
        !storage.reclaim_space().await.unwrap(),
        "nothing is dead yet"
    );

    // Two writes of each of 30,000 jobs: 60,000 dead versions, past 53,000.
    write_every_job_twice(&pool).await;
    reclaim_when_seen(&storage, &pool).await;
    let left = dead_rows(&pool).await;
    assert!(left < 1_000, "{left} dead rows left after the vacuum");
    assert!(
        !storage.reclaim_space().await.unwrap(),
        "vacuums again with nothing to reclaim"
    );

    // A vacuum that an old snapshot holds back (a long transaction) removes
    // nothing; it is not repeated until as many more have piled up again.
    let mut old_snapshot = pool.begin().await.unwrap();
    sqlx::raw_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ; SELECT 1")
        .execute(&mut *old_snapshot)
        .await
        .unwrap();
    write_every_job_twice(&pool).await;
    reclaim_when_seen(&storage, &pool).await;
    assert!(
        dead_rows(&pool).await >= 50_000,
        "the old snapshot held nothing back"
    );
    // Past the 2 s that follow any vacuum: the versions it could not
    // remove do not count again.
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    assert!(
        !storage.reclaim_space().await.unwrap(),
        "vacuumed again what the old snapshot holds"
    );
    old_snapshot.rollback().await.unwrap();
    pool.close().await;
    db.finish().await;
}

/// Statistics taken while no job ran (as autovacuum's ANALYZE may take them)
/// must not turn a settle into a read of every running job: with thousands
/// running, each settle would then cost thousands of rows. The settle reads
/// each job by primary key, whatever the statistics say.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settle_reads_by_key_after_statistics_of_a_quiet_queue() {
    let (storage, pool, schema) = schema("settle_plan").await;
    let jobs: Vec<Job> = (0..20_000).map(|i| Job::new("plan", json!(i))).collect();
    storage.enqueue_many(jobs).await.unwrap();
    sqlx::raw_sql("ANALYZE hammerwork_jobs")
        .execute(&pool)
        .await
        .unwrap();
    let now = chrono::Utc::now();
    let lease_until = now + chrono::Duration::minutes(5);
    let params = hammerwork::ClaimParams::new("plan", 2_000, now, lease_until);
    let claimed = storage.claim_jobs(params).await.unwrap();
    assert_eq!(claimed.len(), 2_000);

    // The whole claim as one batch, as a backlog of completions sends it.
    let ids: Vec<uuid::Uuid> = claimed.iter().map(|job| job.id.0).collect();
    let claims: Vec<i64> = claimed.iter().map(|job| job.claims).collect();
    let n = claimed.len();
    let settle = include_str!("../queries/settle_attempts.sql");
    let attempts = format!("{settle} THEN true ELSE false END");
    let independent = format!(
        "{settle} AND NOT j.has_dependents AND j.workflow_id IS NULL THEN true ELSE false END"
    );
    for statement in [attempts, independent] {
        let plan: Vec<String> = sqlx::query_scalar(&format!("EXPLAIN {statement}"))
            .bind(&ids)
            .bind(&claims)
            .bind(vec!["completed"; n])
            .bind(vec![None::<String>; n])
            .bind(vec![None::<String>; n])
            .bind(vec![None::<i64>; n])
            .bind(vec![None::<bool>; n])
            .bind(chrono::Utc::now())
            .fetch_all(&pool)
            .await
            .unwrap();
        assert_reads_by_key(&plan.join("\n"));
    }
    let heartbeat = include_str!("../queries/heartbeat_jobs.sql");
    let plan: Vec<String> = sqlx::query_scalar(&format!("EXPLAIN {heartbeat}"))
        .bind(&ids)
        .bind(&claims)
        .bind(lease_until)
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_reads_by_key(&plan.join("\n"));
    drop_schema(pool, &schema).await;
}

/// The jobs of a batch are found by key, or by one hash of the table: never
/// by a nested loop that scans the batch once per job (or the jobs once per
/// outcome), the plan that statistics of a quiet queue led to.
fn assert_reads_by_key(plan: &str) {
    let by_key = plan.contains("Index Scan using hammerwork_jobs_pkey");
    let hashed = plan.contains("Hash Join");
    assert!(by_key || hashed, "{plan}");
    if plan.contains("Nested Loop") {
        assert!(
            by_key && !plan.contains("Join Filter: ((j.id = t.id)"),
            "{plan}"
        );
    }
}

/// `delete_jobs` tests for dependents again once the jobs are locked: an
/// enqueue that added an edge to a job after the pruning pass read it (in
/// an older snapshot) committed before the pass locked the job, and the job
/// must stay, with that edge.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_jobs_keeps_a_job_that_gained_a_dependent() {
    use hammerwork_api::driver::{Driver, Transaction};
    let (storage, pool, schema) = schema("prune_race").await;
    let parent = Job::new("race", json!("parent"));
    storage.enqueue(parent.clone()).await.unwrap();
    let dependent = Job::new("race", json!("dependent")).depends_on(&parent.id);
    storage.enqueue(dependent.clone()).await.unwrap();

    let driver = hammerwork_postgres::PgDriver::from_pool(pool.clone())
        .await
        .unwrap();
    let mut tx = driver.begin().await.unwrap();
    let pruned = tx.delete_jobs(&[parent.id]).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(pruned.jobs, 0, "a job with a dependent was deleted");
    assert!(storage.get_job(parent.id).await.unwrap().is_some());
    let parents = storage.get_dependencies(dependent.id).await.unwrap();
    assert_eq!(parents.len(), 1, "the dependent lost its edge");
    drop_schema(pool, &schema).await;
}

/// The first jobs to depend on a stored job, enqueued at once by 8 callers
/// (10 rounds, a fresh parent each): flagging the parent as having
/// dependents deadlocks none of them (two transactions that share-locked it
/// and then both flag it would, each such deadlock found only after
/// PostgreSQL's deadlock_timeout, a second, then retried), and every
/// dependent waits on it. One thread, so the log is this test's own.
#[tokio::test]
async fn first_dependents_of_a_stored_job_arriving_at_once_do_not_deadlock() {
    let logged = hammerwork_testkit::logged::Logged::default();
    let _guard = logged.install();
    let (storage, pool, schema) =
        schema_with("first_dependents", PostgresStorage::pool_options()).await;
    for round in 0..10 {
        let parent = Job::new("flagged", json!(round));
        storage.enqueue(parent.clone()).await.unwrap();
        let children: Vec<Job> = (0..8)
            .map(|i| Job::new("flagged_child", json!([round, i])).depends_on(&parent.id))
            .collect();
        let enqueues = children.iter().map(|child| storage.enqueue(child.clone()));
        for done in futures::future::join_all(enqueues).await {
            done.unwrap();
        }
        for child in &children {
            let stored = storage.get_job(child.id).await.unwrap().unwrap();
            assert_eq!(stored.pending_dependencies, 1, "round {round}");
        }
    }
    let retries = logged.conflict_retries();
    assert_eq!(
        retries,
        0,
        "conflict retries were logged:\n{}",
        logged.text()
    );
    drop_schema(pool, &schema).await;
}
