//! `sqlite::memory:` works end to end, and the SQLite-only API behaves as
//! documented: transactional enqueue, idempotent migrations in our own table.

use chrono::{Duration, SubsecRound, Utc};
use hammerwork_api::{
    ClaimParams, DatabaseQueue, Error, Job, JobStatus, Lease, Outcome, Settlement, Storage,
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

#[tokio::test]
async fn memory_enqueue_claim_settle_round_trip() {
    let storage = memory().await;
    let job = Job::new("mem", json!({"n": 1}));
    storage.enqueue(job.clone()).await.unwrap();
    assert_eq!(storage.get_job(job.id).await.unwrap(), Some(job.clone()));

    let now = Utc::now().trunc_subsecs(6);
    let claimed = storage
        .claim_jobs(ClaimParams::new(
            "mem",
            10,
            now,
            now + Duration::seconds(30),
        ))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!((claimed[0].id, claimed[0].attempts), (job.id, 1));

    let lease = Lease::of(&claimed[0]);
    let done = Settlement::new(
        lease,
        Outcome::Completed {
            result: Some(json!({"ok": true})),
        },
    );
    assert_eq!(storage.settle_jobs(&[done], now).await.unwrap(), 1);
    let stored = storage.get_job(job.id).await.unwrap().unwrap();
    assert_eq!(stored.status, JobStatus::Completed);
    assert_eq!(stored.result, Some(json!({"ok": true})));
    assert_eq!(stored.completed_at, Some(now));
}

#[tokio::test]
async fn memory_databases_are_separate_and_shared_by_clones() {
    let a = memory().await;
    let b = memory().await;
    let job = Job::new("mem", json!(1));
    a.enqueue(job.clone()).await.unwrap();
    assert!(a.clone().get_job(job.id).await.unwrap().is_some());
    assert!(b.get_job(job.id).await.unwrap().is_none());

    // Clones share the wakeup channel too.
    let mut listener = a.listen().await.unwrap().expect("a listener");
    a.clone()
        .enqueue(Job::new("woken", json!(1)))
        .await
        .unwrap();
    assert_eq!(listener.recv().await.as_deref(), Some("woken"));
}

#[tokio::test]
async fn memory_concurrent_operations_share_one_connection() {
    let storage = memory().await;
    let jobs: Vec<Job> = (0..200).map(|i| Job::new("busy", json!(i))).collect();
    storage.enqueue_many(jobs).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let storage = storage.clone();
        tasks.push(tokio::spawn(async move {
            let mut claimed = 0;
            loop {
                let now = Utc::now();
                let jobs = storage
                    .claim_jobs(ClaimParams::new(
                        "busy",
                        7,
                        now,
                        now + Duration::seconds(30),
                    ))
                    .await
                    .unwrap();
                if jobs.is_empty() {
                    return claimed;
                }
                claimed += jobs.len();
            }
        }));
    }
    let mut total = 0;
    for task in tasks {
        total += task.await.unwrap();
    }
    assert_eq!(total, 200);
    assert_eq!(storage.queue_counts("busy").await.unwrap().running, 200);
}

#[tokio::test]
async fn enqueue_in_transaction_commits_or_rolls_back_with_it() {
    let storage = memory().await;
    let kept = Job::new("tx", json!("kept"));
    let mut tx = storage.pool().begin().await.unwrap();
    storage
        .enqueue_jobs_in(&mut tx, std::slice::from_ref(&kept))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(storage.get_job(kept.id).await.unwrap().is_some());

    let dropped = Job::new("tx", json!("dropped"));
    let mut tx = storage.pool().begin().await.unwrap();
    storage
        .enqueue_jobs_in(&mut tx, std::slice::from_ref(&dropped))
        .await
        .unwrap();
    // A duplicate inside the caller's transaction names the id, and leaves the
    // transaction usable (SQLite undoes only the failed statement).
    let again = storage
        .enqueue_jobs_in(&mut tx, std::slice::from_ref(&dropped))
        .await;
    assert!(matches!(again, Err(Error::DuplicateJob { id }) if id == dropped.id));
    tx.rollback().await.unwrap();
    assert!(storage.get_job(dropped.id).await.unwrap().is_none());
}

#[tokio::test]
async fn enqueue_of_many_chunks_is_all_or_nothing() {
    let storage = memory().await;
    let existing = Job::new("chunks", json!("existing"));
    storage.enqueue(existing.clone()).await.unwrap();
    // More than one INSERT statement's worth, with the duplicate in the last one.
    let mut jobs: Vec<Job> = (0..12_000).map(|i| Job::new("chunks", json!(i))).collect();
    jobs.push(existing.clone());
    let result = storage.enqueue_many(jobs.clone()).await;
    assert!(
        matches!(result, Err(Error::DuplicateJob { id }) if id == existing.id),
        "{result:?}"
    );
    assert_eq!(storage.queue_counts("chunks").await.unwrap().total(), 1);

    // The same through a caller's connection outside any transaction.
    let mut conn = storage.pool().acquire().await.unwrap();
    let result = storage.enqueue_jobs_in(&mut conn, &jobs).await;
    assert!(matches!(result, Err(Error::DuplicateJob { .. })));
    drop(conn);
    assert_eq!(storage.queue_counts("chunks").await.unwrap().total(), 1);

    jobs.pop();
    let ids = storage.enqueue_many(jobs).await.unwrap();
    assert_eq!(ids.len(), 12_000);
    assert_eq!(
        storage.queue_counts("chunks").await.unwrap().pending,
        12_001
    );
}

#[tokio::test]
async fn migrate_is_idempotent_and_keeps_to_its_own_table() {
    let storage = memory().await;
    storage.migrate().await.unwrap();
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .fetch_all(storage.pool())
            .await
            .unwrap();
    assert_eq!(
        tables,
        [
            "hammerwork_job_dependencies",
            "hammerwork_jobs",
            "hammerwork_leaders",
            "hammerwork_migrations",
            "hammerwork_queues",
            "hammerwork_spawn_operations",
            "hammerwork_workflows"
        ]
    );
    let versions: Vec<i64> = sqlx::query_scalar("SELECT version FROM hammerwork_migrations")
        .fetch_all(storage.pool())
        .await
        .unwrap();
    assert_eq!(versions, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
}

#[tokio::test]
async fn bad_urls_are_config_errors() {
    let err = SqliteStorage::connect("sqlite://x.db?mode=nonsense")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
}

#[tokio::test]
async fn claims_read_only_the_ready_index() {
    let storage = memory().await;
    // The claim's WHERE must imply the partial index's (which leaves out
    // jobs waiting on a dependency), or SQLite would scan the table.
    let rows = sqlx::query(&format!(
        "EXPLAIN QUERY PLAN {}",
        include_str!("../queries/claim_jobs.sql")
    ))
    .bind("q")
    .bind(0_i64)
    .bind(10_i64)
    .bind(0_i64)
    .fetch_all(storage.pool())
    .await
    .unwrap();
    let details: Vec<String> = rows
        .iter()
        .map(|row| sqlx::Row::get::<String, _>(row, "detail"))
        .collect();
    assert!(
        details
            .iter()
            .any(|d| d.contains("USING INDEX hammerwork_jobs_ready")),
        "{details:?}"
    );
}

/// A claimed row that cannot be read ends alone, dead with the reason; its
/// batch-mates run (the claim failed as a whole before, leaving all three
/// running).
#[tokio::test]
async fn unreadable_claimed_row_ends_alone() {
    let storage = memory().await;
    let pool = storage.pool().clone();
    hammerwork_testkit::stored::unreadable_row_ends_alone(storage, |id, policy| {
        let pool = pool.clone();
        async move {
            sqlx::query("UPDATE hammerwork_jobs SET retry_policy = ? WHERE id = ?")
                .bind(policy)
                .bind(id.to_string())
                .execute(&pool)
                .await
                .unwrap();
        }
    })
    .await;
}

/// A payload that is not JSON (a hand edit: SQLite stores it as text) ends
/// its job alone too; the claim returns the rest.
#[tokio::test]
async fn unreadable_payload_ends_alone() {
    let storage = memory().await;
    let (good, bad) = (
        Job::new("bad_payload", json!(1)),
        Job::new("bad_payload", json!(2)),
    );
    storage
        .enqueue_many(vec![good.clone(), bad.clone()])
        .await
        .unwrap();
    sqlx::query("UPDATE hammerwork_jobs SET payload = 'not json' WHERE id = ?")
        .bind(bad.id.to_string())
        .execute(storage.pool())
        .await
        .unwrap();
    let now = Utc::now().trunc_subsecs(6);
    let claimed = storage
        .claim_jobs(ClaimParams::new(
            "bad_payload",
            10,
            now,
            now + Duration::seconds(30),
        ))
        .await
        .expect("the claim returns the readable job");
    assert_eq!(
        claimed.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![good.id]
    );
    let status: String = sqlx::query_scalar("SELECT status FROM hammerwork_jobs WHERE id = ?")
        .bind(bad.id.to_string())
        .fetch_one(storage.pool())
        .await
        .unwrap();
    assert_eq!(status, "dead");
}

/// A recurring series whose next occurrence is refused is backed off (1 s,
/// 2 s, 4 s ...) rather than tried every tick; the others move.
#[tokio::test]
async fn failing_series_backs_off() {
    let storage = memory().await;
    let lenient = storage
        .clone()
        .with_limits(hammerwork_api::Limits::default().with_max_payload_bytes(4 << 20));
    hammerwork_testkit::stored::failing_series_backs_off(storage, lenient).await;
}
