//! Dynamic spawning: the fan-out dataset case. A `large_dataset` job's spawn
//! handler splits the dataset into chunks of 1,000 records, one
//! `process_chunk` child each; the workflow's `summarize` stage awaits every
//! chunk (`with_await_children`) and adds up their results.
//!
//! ```text
//! cargo run -p hammerwork --example spawn
//! ```
//!
//! Runs on an embedded SQLite file (`hammerwork-spawn.db`), no server needed.
//! With `--features postgres` and `DATABASE_URL=postgres://...` it runs the
//! same code on PostgreSQL.

use std::time::Duration;

use async_trait::async_trait;
use hammerwork::spawn::{JobSpawnExt, SpawnConfig, SpawnContext, SpawnHandler, SpawnManager};
use hammerwork::workflow::{JobGroup, WorkflowStatus};
use hammerwork::{
    DatabaseQueue, HandlerResult, Job, JobContext, Storage, StorageDatabase, Worker, WorkerPool,
};
use serde_json::json;

/// The spec's `DatasetProcessor`: one child per 1,000 records.
struct DatasetProcessor;

#[async_trait]
impl<DB: 'static> SpawnHandler<DB> for DatasetProcessor {
    async fn spawn_jobs(&self, context: SpawnContext<DB>) -> hammerwork::Result<Vec<Job>> {
        let parent = &context.parent_job;
        let dataset_size = parent.payload["size"].as_u64().unwrap_or(0);
        let chunk_size = 1000;
        let num_chunks = dataset_size.div_ceil(chunk_size);
        Ok((0..num_chunks)
            .map(|i| {
                let start = i * chunk_size;
                let end = (start + chunk_size).min(dataset_size);
                Job::new(
                    "process_chunk",
                    json!({
                        "chunk_id": i,
                        "start_index": start,
                        "end_index": end,
                        "dataset_id": parent.payload["dataset_id"],
                    }),
                )
            })
            .collect())
    }

    async fn validate_spawn(&self, parent: &Job, _: &SpawnConfig) -> hammerwork::Result<()> {
        if parent
            .payload
            .get("size")
            .and_then(|s| s.as_u64())
            .is_none()
        {
            return Err(hammerwork::spawn::SpawnError::rejected(
                "the dataset job has no numeric `size`",
            ));
        }
        Ok(())
    }
}

#[tokio::main]
async fn main() -> hammerwork::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()))
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
                hammerwork::SqliteStorage::connect("sqlite://hammerwork-spawn.db").await?;
            storage.migrate().await?;
            run(storage).await
        }
    }
}

async fn run<S: Storage + Clone + StorageDatabase>(storage: S) -> hammerwork::Result<()> {
    let mut spawn_manager = SpawnManager::<S::Database>::new();
    spawn_manager.register_handler("dataset_processor", DatasetProcessor);

    let dataset = Job::new(
        "large_dataset",
        json!({"dataset_id": "ds-123", "size": 12_345}),
    )
    .with_spawn_handler("dataset_processor")
    .with_spawn_config(
        SpawnConfig::new()
            .with_max_spawn_count(100)
            .with_inherit_priority(true)
            .with_await_children(true)
            .with_metadata(json!({"source": "example"})),
    );
    let dataset_id = dataset.id;
    let workflow = JobGroup::new("dataset ds-123")
        .add_job(dataset)
        .then(Job::new("summarize", json!({})));
    let id = storage.enqueue_workflow(workflow).await?;

    let pool = WorkerPool::new()
        .add_worker(
            Worker::new(storage.clone(), "large_dataset", |_: JobContext| async {
                HandlerResult::Ok(Some(json!({"split": true})))
            })
            .with_spawn_manager(spawn_manager),
        )
        .add_worker(
            Worker::new(
                storage.clone(),
                "process_chunk",
                |ctx: JobContext| async move {
                    let rows = ctx.payload["end_index"].as_u64().unwrap_or(0)
                        - ctx.payload["start_index"].as_u64().unwrap_or(0);
                    HandlerResult::Ok(Some(json!({ "rows": rows })))
                },
            )
            .with_concurrency(8),
        )
        .add_worker(Worker::new(
            storage.clone(),
            "summarize",
            |ctx: JobContext| async move {
                // Awaited children are dependencies too: their results are here.
                let rows: u64 = ctx
                    .parent_results()
                    .await?
                    .values()
                    .flatten()
                    .filter_map(|r| r["rows"].as_u64())
                    .sum();
                HandlerResult::Ok(Some(json!({ "rows": rows })))
            },
        ))
        .start();

    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while storage.get_workflow_status(id).await? == WorkflowStatus::Running
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    pool.shutdown().await;

    let tree = storage.get_spawn_tree(dataset_id, 3).await?;
    let summary = storage
        .list_jobs(
            hammerwork::ListJobsParams::new()
                .workflow(id)
                .queue("summarize"),
        )
        .await?;
    println!(
        "workflow {id}: {:?}; spawned {} chunks; summary {}",
        storage.get_workflow_status(id).await?,
        tree.len() - 1,
        summary
            .first()
            .and_then(|j| j.result.clone())
            .unwrap_or_default()
    );
    print!(
        "{}",
        tree.to_text()
            .lines()
            .take(4)
            .collect::<Vec<_>>()
            .join("\n")
    );
    println!("\n  ...");
    Ok(())
}
