//! What the conformance suite cannot see: PostgreSQL-specific promises of
//! `PostgresStorage` (how many connections it takes).

use std::time::Duration;

use hammerwork::{
    DatabaseQueue, HandlerResult, Job, JobContext, JobStatus, Storage, Worker, WorkerPool,
};
use hammerwork_postgres::PostgresStorage;
use hammerwork_testkit::provision::{postgres_url, unique_name};
use serde_json::json;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

/// Forty workers, one per queue, share a pool of five connections: waiting
/// for wakeups takes no pooled connection (one LISTEN connection per storage,
/// outside the pool), so claims, settles and enqueues still get theirs and
/// every job completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_workers_share_a_small_pool() {
    let url = postgres_url();
    let schema = unique_name("small_pool");
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .unwrap();
    sqlx::raw_sql(&format!("CREATE SCHEMA {schema}"))
        .execute(&admin)
        .await
        .unwrap();
    let options: PgConnectOptions = url.parse().unwrap();
    let pool = PgPoolOptions::new()
        .max_connections(5)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options.options([("search_path", schema.as_str())]))
        .await
        .unwrap();
    let storage = PostgresStorage::from_pool(pool.clone()).await.unwrap();
    storage.migrate().await.unwrap();

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
    pool.close().await;
    sqlx::raw_sql(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&admin)
        .await
        .unwrap();
}

/// The LISTEN connection comes back after the server dropped it (a restart,
/// a failover, an idle timeout): a subscriber hears of jobs enqueued after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wakeups_survive_a_dropped_listen_connection() {
    let url = postgres_url();
    let schema = unique_name("listen_again");
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .unwrap();
    sqlx::raw_sql(&format!("CREATE SCHEMA {schema}"))
        .execute(&admin)
        .await
        .unwrap();
    let options: PgConnectOptions = url.parse().unwrap();
    let pool = PgPoolOptions::new()
        .max_connections(3)
        .connect_with(options.options([("search_path", schema.as_str())]))
        .await
        .unwrap();
    let storage = PostgresStorage::from_pool(pool.clone()).await.unwrap();
    storage.migrate().await.unwrap();
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
    .fetch_one(&admin)
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
    pool.close().await;
    sqlx::raw_sql(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&admin)
        .await
        .unwrap();
}
