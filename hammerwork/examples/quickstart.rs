//! Quickstart: enqueue jobs and process them with a worker.
//!
//! ```text
//! cargo run -p hammerwork --example quickstart
//! ```
//!
//! Runs on an embedded SQLite file (`hammerwork-quickstart.db`), no server
//! needed. With `--features postgres` and `DATABASE_URL=postgres://...` it runs
//! the same code on PostgreSQL.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hammerwork::{DatabaseQueue, HandlerResult, Job, JobContext, JobPriority, Storage, Worker};
use serde_json::json;

#[tokio::main]
async fn main() -> hammerwork::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()))
        .init();

    match std::env::var("DATABASE_URL") {
        #[cfg(feature = "postgres")]
        Ok(url) if url.starts_with("postgres") => {
            let storage = hammerwork::PostgresStorage::connect(&url).await?;
            storage.migrate().await?;
            run(storage).await
        }
        Ok(url) => Err(hammerwork::Error::Config(format!(
            "this example runs on SQLite, or on PostgreSQL with --features postgres; got {url}"
        ))),
        Err(_) => {
            let storage =
                hammerwork::SqliteStorage::connect("sqlite://hammerwork-quickstart.db").await?;
            storage.migrate().await?;
            run(storage).await
        }
    }
}

async fn run<S: Storage + Clone>(storage: S) -> hammerwork::Result<()> {
    // Enqueue: one job, then a batch in one transaction.
    storage
        .enqueue(
            Job::new("emails", json!({"to": "ada@example.com"})).with_priority(JobPriority::High),
        )
        .await?;
    let batch: Vec<Job> = (1..=9)
        .map(|n| Job::new("emails", json!({"to": format!("user{n}@example.com")})))
        .collect();
    storage.enqueue_many(batch).await?;

    // Process: a worker runs the handler for every job of the queue.
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    let worker = Worker::new(storage.clone(), "emails", move |ctx: JobContext| {
        let counter = counter.clone();
        async move {
            let to = ctx.payload["to"].as_str().unwrap_or_default().to_string();
            tracing::info!(%to, "sending email");
            counter.fetch_add(1, Ordering::Relaxed);
            HandlerResult::Ok(Some(json!({"sent_to": to})))
        }
    })
    .with_concurrency(4)
    .start();

    // Wait until the queue is drained, then shut down gracefully.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let counts = storage.queue_counts("emails").await?;
        if counts.pending + counts.running + counts.retrying == 0 {
            println!(
                "done: sent {} emails this run; the queue has {} completed jobs in all",
                sent.load(Ordering::Relaxed),
                counts.completed
            );
            break;
        }
        if tokio::time::Instant::now() > deadline {
            println!("gave up waiting: {counts:?}");
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    worker.shutdown().await;
    Ok(())
}
