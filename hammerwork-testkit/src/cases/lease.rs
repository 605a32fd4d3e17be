use hammerwork_api::{ClaimParams, DatabaseQueue, Job, JobStatus, Lease, Storage};
use serde_json::json;

use crate::support::{now, secs};

/// A running job whose lease ended is returned to `Pending` with its attempt
/// counted, and is claimable again; a job still leased is left alone.
pub async fn lease_expired_job_is_rescued<S: Storage>(storage: S) {
    let short = Job::new("lease", json!("short"));
    let long = Job::new("lease", json!("long"));
    storage
        .enqueue_many(vec![short.clone(), long.clone()])
        .await
        .unwrap();
    let t = now();
    storage
        .claim_jobs(ClaimParams::new("lease", 1, t, t + secs(10)))
        .await
        .unwrap();
    storage
        .claim_jobs(ClaimParams::new("lease", 1, t, t + secs(100)))
        .await
        .unwrap();

    assert_eq!(
        storage.rescue_expired_jobs(t + secs(9)).await.unwrap(),
        0,
        "rescued a live lease"
    );
    assert_eq!(storage.rescue_expired_jobs(t + secs(11)).await.unwrap(), 1);
    let rescued = storage.get_job(short.id).await.unwrap().unwrap();
    assert_eq!(rescued.status, JobStatus::Pending);
    assert_eq!(rescued.attempts, 1, "the crashed attempt counts");
    assert_eq!(rescued.lease_expires_at, None);
    assert!(rescued.error_message.unwrap().contains("lease"));
    assert_eq!(
        storage.get_job(long.id).await.unwrap().unwrap().status,
        JobStatus::Running
    );

    let again = storage
        .claim_jobs(ClaimParams::new("lease", 5, t + secs(12), t + secs(60)))
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].id, again[0].attempts), (short.id, 2));
}

/// A rescue takes every expired lease, however many (a crashed worker may
/// have held thousands of claimed jobs), not one batch of them.
pub async fn lease_rescue_takes_every_expired_lease<S: Storage>(storage: S) {
    const CLAIMED: usize = 2_500;
    let jobs: Vec<Job> = (0..CLAIMED)
        .map(|i| Job::new("crashed", json!(i)))
        .collect();
    storage.enqueue_many(jobs).await.unwrap();
    let t = now();
    let claimed = storage
        .claim_jobs(ClaimParams::new("crashed", CLAIMED as u32, t, t + secs(10)))
        .await
        .unwrap();
    assert_eq!(claimed.len(), CLAIMED);
    assert_eq!(
        storage.rescue_expired_jobs(t + secs(11)).await.unwrap(),
        CLAIMED as u64
    );
    let counts = storage.queue_counts("crashed").await.unwrap();
    assert_eq!((counts.pending, counts.running), (CLAIMED as u64, 0));
}

/// A heartbeat moves the lease forward so the rescuer leaves the job alone; a
/// heartbeat for a stale attempt extends nothing.
pub async fn lease_heartbeat_extends_lease<S: Storage>(storage: S) {
    let job = Job::new("heartbeat", json!({}));
    storage.enqueue(job.clone()).await.unwrap();
    let t = now();
    let claimed = storage
        .claim_jobs(ClaimParams::new("heartbeat", 1, t, t + secs(10)))
        .await
        .unwrap();
    let current = Lease::of(&claimed[0]);
    assert_eq!(
        storage
            .heartbeat_jobs(&[current], t + secs(60))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        storage.rescue_expired_jobs(t + secs(30)).await.unwrap(),
        0,
        "rescued a renewed lease"
    );
    let stored = storage.get_job(job.id).await.unwrap().unwrap();
    assert_eq!(stored.lease_expires_at, Some(t + secs(60)));

    let stale = Lease {
        id: job.id,
        claim: current.claim + 1,
    };
    assert_eq!(
        storage
            .heartbeat_jobs(&[stale], t + secs(600))
            .await
            .unwrap(),
        0
    );
    assert_eq!(storage.rescue_expired_jobs(t + secs(61)).await.unwrap(), 1);
}

/// A lease that expires on the last allowed attempt makes the job `Dead`
/// instead of running it again.
pub async fn lease_rescue_on_last_attempt_is_dead<S: Storage>(storage: S) {
    let job = Job::new("lease_last", json!({})).with_max_attempts(1);
    storage.enqueue(job.clone()).await.unwrap();
    let t = now();
    storage
        .claim_jobs(ClaimParams::new("lease_last", 1, t, t + secs(1)))
        .await
        .unwrap();
    assert_eq!(storage.rescue_expired_jobs(t + secs(2)).await.unwrap(), 1);
    let stored = storage.get_job(job.id).await.unwrap().unwrap();
    assert_eq!(stored.status, JobStatus::Dead);
    let none = storage
        .claim_jobs(ClaimParams::new("lease_last", 1, t + secs(3), t + secs(9)))
        .await
        .unwrap();
    assert!(none.is_empty());
}

/// A stale worker cannot touch a later claim of the same job even when the
/// attempt count came back to the same number: an unstarted give-back does
/// not count its attempt, so the next claim is attempt 1 again, and a
/// workflow retry starts its jobs over from attempt 0. The late heartbeat and
/// outcome of the first claim change nothing.
pub async fn lease_fence_outlives_reused_attempt_numbers<S: Storage>(storage: S) {
    use hammerwork_api::workflow::JobGroup;
    use hammerwork_api::{Outcome, Settlement};

    let claim = |at| ClaimParams::new("fence", 1, at, at + secs(30));
    let job = Job::new("fence", json!("given back"));
    storage.enqueue(job.clone()).await.unwrap();
    let t = now();
    let first = storage.claim_jobs(claim(t)).await.unwrap();
    let stale = Lease::of(&first[0]);
    let give_back = Settlement::new(stale, Outcome::GiveBack { started: false });
    assert_eq!(storage.settle_jobs(&[give_back], t).await.unwrap(), 1);
    let second = storage.claim_jobs(claim(t)).await.unwrap();
    assert_eq!(
        second[0].attempts, first[0].attempts,
        "the same attempt number"
    );
    assert_eq!(
        storage
            .heartbeat_jobs(&[stale], t + secs(600))
            .await
            .unwrap(),
        0,
        "a late heartbeat of the given-back claim renewed the new one"
    );
    let late = Settlement::new(stale, Outcome::Completed { result: None });
    assert_eq!(storage.settle_jobs(&[late], t).await.unwrap(), 0);
    let stored = storage.get_job(job.id).await.unwrap().unwrap();
    assert_eq!(stored.status, JobStatus::Running);
    assert_eq!(stored.lease_expires_at, Some(t + secs(30)));

    // A workflow job cancelled while a worker still runs it, then retried
    // and claimed again.
    let step = Job::new("fence", json!("retried"));
    let workflow = storage
        .enqueue_workflow(JobGroup::new("fence").add_job(step.clone()))
        .await
        .unwrap();
    let t = now();
    let running = storage.claim_jobs(claim(t)).await.unwrap();
    let stale = Lease::of(&running[0]);
    storage.cancel_workflow_at(workflow, t).await.unwrap();
    storage.retry_workflow_at(workflow, t).await.unwrap();
    let again = storage.claim_jobs(claim(t)).await.unwrap();
    assert_eq!(
        (again[0].id, again[0].attempts),
        (step.id, running[0].attempts)
    );
    let late = Settlement::new(stale, Outcome::Completed { result: None });
    assert_eq!(
        storage.settle_jobs(&[late], t).await.unwrap(),
        0,
        "the cancelled worker completed the retried attempt"
    );
    let stored = storage.get_job(step.id).await.unwrap().unwrap();
    assert_eq!(stored.status, JobStatus::Running);
}
