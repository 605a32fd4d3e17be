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
