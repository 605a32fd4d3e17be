//! A workflow: extract, then transform four regions in parallel, then a
//! summary that aggregates their results, then a conditional alert.
//!
//! ```text
//! cargo run -p hammerwork --example workflow
//! ```
//!
//! Runs on an embedded SQLite file (`hammerwork-workflow.db`), no server needed.

use std::time::Duration;

use hammerwork::workflow::{to_mermaid, FailurePolicy, JobGroup, WorkflowStatus};
use hammerwork::{
    DatabaseQueue, HandlerResult, Job, JobContext, ListJobsParams, Storage, Worker, WorkerPool,
};
use serde_json::json;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let storage = hammerwork::SqliteStorage::connect("sqlite://hammerwork-workflow.db").await?;
    storage.migrate().await?;

    let extract = Job::new("extract", json!({"source": "orders"}));
    let regions: Vec<Job> = ["us-east", "us-west", "eu-west", "ap-south"]
        .into_iter()
        .map(|region| Job::new("transform", json!({ "region": region })).depends_on(&extract.id))
        .collect();
    let summary = Job::new("summarize", json!({}));
    // Runs only if the summary's result says so; otherwise it is skipped.
    let alert = Job::new("alert", json!({})).with_condition("total_rows > 1000");
    let workflow = JobGroup::new("daily_orders")
        .with_description("extract -> 4 regions in parallel -> summary -> alert")
        .with_failure_policy(FailurePolicy::ContinueOnFailure)
        .with_timeout(Duration::from_secs(60))
        .add_job(extract)
        .add_parallel_jobs(regions) // fan-out: each region depends on extract
        .then(summary) // fan-in: waits for all four regions
        .then(alert);
    let id = storage.enqueue_workflow(workflow).await?;

    let pool = WorkerPool::new()
        .add_worker(Worker::new(
            storage.clone(),
            "extract",
            |_: JobContext| async { HandlerResult::Ok(Some(json!({"rows": 4000}))) },
        ))
        .add_worker(Worker::new(
            storage.clone(),
            "transform",
            |ctx: JobContext| async move {
                let region = ctx.payload["region"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                HandlerResult::Ok(Some(
                    json!({ "region": region, "rows": 1000 + region.len() }),
                ))
            },
        ))
        .add_worker(Worker::new(
            storage.clone(),
            "summarize",
            |ctx: JobContext| async move {
                // Fan-in: read every parent's result in one call.
                let total: i64 = ctx
                    .parent_results()
                    .await?
                    .values()
                    .flatten()
                    .filter_map(|r| r["rows"].as_i64())
                    .sum();
                HandlerResult::Ok(Some(json!({ "total_rows": total })))
            },
        ))
        .add_worker(Worker::new(
            storage.clone(),
            "alert",
            |_: JobContext| async {
                println!("alert: a big day");
                HandlerResult::Ok(None)
            },
        ))
        .start();

    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while storage.get_workflow_status(id).await? == WorkflowStatus::Running
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    pool.shutdown().await;

    let stats = storage.get_workflow_stats(id).await?;
    println!(
        "workflow {id}: {:?}, {}/{} completed, {:.0}% done",
        storage.get_workflow_status(id).await?,
        stats.completed_jobs,
        stats.total_jobs,
        stats.completion_percentage()
    );
    let jobs = storage
        .list_jobs(ListJobsParams::new().workflow(id))
        .await?;
    println!("{}", to_mermaid(&jobs));
    Ok(())
}
