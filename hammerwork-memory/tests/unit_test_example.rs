//! What a user's unit test looks like with `MemoryStorage` (the README's
//! "Testing your handlers without a database"): real workers, a workflow,
//! no database.

use std::time::Duration;

use hammerwork::{
    DatabaseQueue, HandlerResult, Job, JobContext, JobGroup, JobStatus, MemoryStorage, Storage,
    Worker, WorkflowStatus,
};
use serde_json::json;

/// Polls `check` until it holds, for at most five seconds.
async fn eventually<F, Fut>(mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn a_workflow_runs_in_memory() {
    let storage = MemoryStorage::new();
    let extract = Job::new("etl", json!({"step": "extract"}));
    let load = Job::new("etl", json!({"step": "load"}));
    let (extract_id, load_id) = (extract.id, load.id);
    let workflow = storage
        .enqueue_workflow(JobGroup::new("etl").add_job(extract).then(load))
        .await
        .unwrap();
    let worker = Worker::new(storage.clone(), "etl", |ctx: JobContext| async move {
        HandlerResult::Ok(Some(json!({"did": ctx.payload["step"]})))
    })
    .start();
    eventually(|| async {
        storage.get_workflow_status(workflow).await.unwrap() == WorkflowStatus::Completed
    })
    .await;
    worker.shutdown().await;
    let load = storage.get_job(load_id).await.unwrap().unwrap();
    assert_eq!(load.status, JobStatus::Completed);
    assert_eq!(load.result, Some(json!({"did": "load"})));
    let extract = storage.get_job(extract_id).await.unwrap().unwrap();
    assert!(
        extract.completed_at <= load.started_at,
        "load ran after extract"
    );
}
