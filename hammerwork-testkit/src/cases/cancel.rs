use hammerwork_api::{
    ClaimParams, DatabaseQueue, Error, Job, JobId, JobStatus, Lease, Outcome, Settlement, Storage,
};
use serde_json::json;

use crate::support::{now, secs};

/// Cancelling works on pending and running jobs, reports `false` for a finished
/// one and `NotFound` for an unknown id; a cancelled job is never claimed and
/// its running attempt's outcome is ignored.
pub async fn cancel_pending_running_and_finished_jobs<S: Storage>(storage: S) {
    let pending = Job::new("cancel", json!("pending")).scheduled_at(now() + secs(3600));
    let running = Job::new("cancel", json!("running"));
    storage
        .enqueue_many(vec![pending.clone(), running.clone()])
        .await
        .unwrap();
    let t = now();
    let claimed = storage
        .claim_jobs(ClaimParams::new("cancel", 1, t, t + secs(30)))
        .await
        .unwrap();
    assert_eq!(claimed[0].id, running.id);

    assert!(storage.cancel_job(pending.id).await.unwrap());
    assert!(storage.cancel_job(running.id).await.unwrap());
    for id in [pending.id, running.id] {
        assert_eq!(
            storage.get_job(id).await.unwrap().unwrap().status,
            JobStatus::Cancelled
        );
    }
    let late = Settlement::new(
        Lease {
            id: running.id,
            claim: 1,
        },
        Outcome::Completed { result: None },
    );
    assert_eq!(
        storage.settle_jobs(&[late], t).await.unwrap(),
        0,
        "a cancelled job was completed"
    );
    let none = storage
        .claim_jobs(ClaimParams::new(
            "cancel",
            10,
            t + secs(7200),
            t + secs(7300),
        ))
        .await
        .unwrap();
    assert!(none.is_empty(), "a cancelled job was claimed");

    assert!(
        !storage.cancel_job(pending.id).await.unwrap(),
        "cancelling twice reports false"
    );
    let unknown = JobId::new();
    assert!(
        matches!(storage.cancel_job(unknown).await, Err(Error::NotFound { id }) if id == unknown)
    );
}

/// A dead or a cancelled job outside any workflow runs again after
/// `retry_job`, with fresh attempts; a job it does not apply to gets
/// `NotApplicable` saying why, an unknown id `NotFound`, and nothing changes.
pub async fn cancel_then_retry_job_runs_again<S: Storage>(storage: S) {
    use hammerwork_api::workflow::JobGroup;
    let q = "retry_job";
    let dead = Job::new(q, json!("dead")).with_max_attempts(1);
    let cancelled = Job::new(q, json!("cancelled"));
    storage.enqueue(dead.clone()).await.unwrap();
    storage.enqueue(cancelled.clone()).await.unwrap();
    assert!(storage.cancel_job(cancelled.id).await.unwrap());
    let claimed = crate::support::claim_all(&storage, q).await;
    assert_eq!(claimed.len(), 1);
    crate::support::fail_permanently(&storage, &claimed[0]).await;
    let read = |id: JobId| {
        let storage = &storage;
        async move { storage.get_job(id).await.unwrap().unwrap() }
    };
    assert_eq!(read(dead.id).await.status, JobStatus::Dead);

    for id in [dead.id, cancelled.id] {
        storage.retry_job(id).await.unwrap();
        let job = read(id).await;
        assert_eq!(job.status, JobStatus::Pending);
        assert_eq!(job.attempts, 0);
        assert_eq!(job.error_message, None);
    }
    let again = crate::support::claim_all(&storage, q).await;
    assert_eq!(again.len(), 2, "both run again");
    assert!(again.iter().all(|j| j.attempts == 1));

    // Running now: not retryable.
    let running = storage.retry_job(dead.id).await;
    assert!(
        matches!(&running, Err(Error::NotApplicable(why)) if why.contains("running")),
        "{running:?}"
    );
    // In a workflow: the workflow is retried instead.
    let in_workflow = Job::new("retry_job_wf", json!("w"));
    storage
        .enqueue_workflow(JobGroup::new("w").add_job(in_workflow.clone()))
        .await
        .unwrap();
    assert!(storage.cancel_job(in_workflow.id).await.unwrap());
    let refused = storage.retry_job(in_workflow.id).await;
    assert!(
        matches!(&refused, Err(Error::NotApplicable(why)) if why.contains("workflow")),
        "{refused:?}"
    );
    assert_eq!(read(in_workflow.id).await.status, JobStatus::Cancelled);
    // Its parent was cancelled: it would wait for ever.
    let parent = Job::new("retry_job_dep", json!("parent"));
    let child = Job::new("retry_job_dep", json!("child")).depends_on(&parent.id);
    storage
        .enqueue_many(vec![parent.clone(), child.clone()])
        .await
        .unwrap();
    assert!(storage.cancel_job(parent.id).await.unwrap());
    assert_eq!(read(child.id).await.status, JobStatus::Cancelled);
    let refused = storage.retry_job(child.id).await;
    assert!(
        matches!(&refused, Err(Error::NotApplicable(why)) if why.contains("did not complete")),
        "{refused:?}"
    );
    assert_eq!(read(child.id).await.status, JobStatus::Cancelled);
    let unknown = storage.retry_job(JobId::new()).await;
    assert!(
        matches!(unknown, Err(Error::NotFound { .. })),
        "{unknown:?}"
    );
}
