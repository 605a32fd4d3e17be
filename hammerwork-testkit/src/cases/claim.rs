use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use hammerwork_api::spawn::SpawnQuery;
use hammerwork_api::{
    ClaimParams, DatabaseQueue, Error, Job, JobPriority, JobStatus, Lease, ListJobsParams, Outcome,
    QueueCounts, Settlement, Storage,
};
use serde_json::json;

use crate::support::{now, secs};

/// Higher priority is claimed first; equal priorities go by `scheduled_at`.
/// A claim marks the job running, counts the attempt and sets the lease.
pub async fn claim_priority_then_schedule_order<S: Storage>(storage: S) {
    let t0 = now() - secs(60);
    let jobs = vec![
        Job::new("prio", json!("low"))
            .with_priority(JobPriority::Low)
            .scheduled_at(t0),
        Job::new("prio", json!("critical"))
            .with_priority(JobPriority::Critical)
            .scheduled_at(t0),
        Job::new("prio", json!("normal-later")).scheduled_at(t0 + secs(2)),
        Job::new("prio", json!("normal-earlier")).scheduled_at(t0 + secs(1)),
        Job::new("prio", json!("background"))
            .with_priority(JobPriority::Background)
            .scheduled_at(t0),
        Job::new("prio", json!("high"))
            .with_priority(JobPriority::High)
            .scheduled_at(t0),
    ];
    storage.enqueue_many(jobs).await.unwrap();

    let at = now();
    let lease_until = at + secs(30);
    let mut order = Vec::new();
    // Claim one at a time so the order is the database's, not a sort of a batch.
    for _ in 0..6 {
        let claimed = storage
            .claim_jobs(ClaimParams::new("prio", 1, at, lease_until))
            .await
            .unwrap();
        assert_eq!(claimed.len(), 1);
        let job = &claimed[0];
        assert_eq!(job.status, JobStatus::Running);
        assert_eq!(job.attempts, 1);
        assert_eq!(job.lease_expires_at, Some(lease_until));
        assert_eq!(job.started_at, Some(at));
        order.push(job.payload.as_str().unwrap().to_string());
    }
    assert_eq!(
        order,
        [
            "critical",
            "high",
            "normal-earlier",
            "normal-later",
            "low",
            "background"
        ]
    );
    let none = storage
        .claim_jobs(ClaimParams::new("prio", 10, at, lease_until))
        .await
        .unwrap();
    assert!(none.is_empty(), "a running job was claimed again");

    // A batch claim returns the same order.
    let jobs = vec![
        Job::new("prio_batch", json!("low"))
            .with_priority(JobPriority::Low)
            .scheduled_at(t0),
        Job::new("prio_batch", json!("critical"))
            .with_priority(JobPriority::Critical)
            .scheduled_at(t0),
        Job::new("prio_batch", json!("normal")).scheduled_at(t0),
    ];
    storage.enqueue_many(jobs).await.unwrap();
    let batch = storage
        .claim_jobs(ClaimParams::new("prio_batch", 10, at, lease_until))
        .await
        .unwrap();
    let names: Vec<_> = batch.iter().map(|j| j.payload.as_str().unwrap()).collect();
    assert_eq!(names, ["critical", "normal", "low"]);
}

/// A job scheduled in the future is not claimed before its time, whatever its
/// priority, and is claimed once the time comes.
pub async fn claim_skips_delayed_until_due<S: Storage>(storage: S) {
    let t = now();
    let delayed = Job::new("delayed", json!({}))
        .with_priority(JobPriority::Critical)
        .scheduled_at(t + secs(60));
    let ready = Job::new("delayed", json!({}))
        .with_priority(JobPriority::Low)
        .scheduled_at(t);
    storage
        .enqueue_many(vec![delayed.clone(), ready.clone()])
        .await
        .unwrap();

    let early = storage
        .claim_jobs(ClaimParams::new("delayed", 10, t, t + secs(30)))
        .await
        .unwrap();
    assert_eq!(early.len(), 1, "only the due job may be claimed");
    assert_eq!(early[0].id, ready.id);
    let still_early = storage
        .claim_jobs(ClaimParams::new("delayed", 10, t + secs(59), t + secs(90)))
        .await
        .unwrap();
    assert!(still_early.is_empty(), "claimed a second before its time");
    let due = storage
        .claim_jobs(ClaimParams::new("delayed", 10, t + secs(60), t + secs(90)))
        .await
        .unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].id, delayed.id);
}

/// `next_due` is the earliest time a job of the queue becomes claimable by
/// time alone, whatever its priority: not a due job, not one held by a
/// dependency, not another queue's, not a running or finished one.
pub async fn claim_next_due_is_the_earliest_waiting_job<S: Storage>(storage: S) {
    let t = now();
    let at = |s: i64| t + secs(s);
    let queue = "next_due";
    assert_eq!(storage.next_due(queue, t).await.unwrap(), None);
    let parent = Job::new("next_due_parent", json!({}));
    let jobs = vec![
        Job::new(queue, json!("due now")).scheduled_at(t),
        Job::new(queue, json!("normal")).scheduled_at(at(60)),
        Job::new(queue, json!("high"))
            .with_priority(JobPriority::High)
            .scheduled_at(at(30)),
        Job::new(queue, json!("background"))
            .with_priority(JobPriority::Background)
            .scheduled_at(at(40)),
        Job::new(queue, json!("held"))
            .scheduled_at(at(5))
            .depends_on(&parent.id),
        Job::new("next_due_other", json!("other queue")).scheduled_at(at(1)),
        parent,
    ];
    storage.enqueue_many(jobs.clone()).await.unwrap();
    let stored = |i: usize| {
        let storage = &storage;
        let id = jobs[i].id;
        async move { storage.get_job(id).await.unwrap().unwrap().scheduled_at }
    };
    let (high, background, normal) = (stored(2).await, stored(3).await, stored(1).await);
    assert_eq!(storage.next_due(queue, t).await.unwrap(), Some(high));
    assert_eq!(
        storage.next_due(queue, high).await.unwrap(),
        Some(background)
    );
    assert_eq!(
        storage.next_due(queue, background).await.unwrap(),
        Some(normal)
    );
    assert_eq!(storage.next_due(queue, normal).await.unwrap(), None);

    // Once claimed (running), a job is no longer waiting for its time.
    let claimed = storage
        .claim_jobs(ClaimParams::new(queue, 10, at(35), at(90)))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 2, "the due job and the high one");
    assert_eq!(storage.next_due(queue, t).await.unwrap(), Some(background));
}

/// A claim takes at most `limit` jobs and only from its own queue.
pub async fn claim_respects_limit_and_queue<S: Storage>(storage: S) {
    let jobs: Vec<Job> = (0..5)
        .map(|i| Job::new("mine", json!(i)))
        .chain((0..5).map(|i| Job::new("other", json!(i))))
        .collect();
    storage.enqueue_many(jobs).await.unwrap();
    let t = now();
    let first = storage
        .claim_jobs(ClaimParams::new("mine", 3, t, t + secs(30)))
        .await
        .unwrap();
    assert_eq!(first.len(), 3);
    assert!(first.iter().all(|j| j.queue_name == "mine"));
    let rest = storage
        .claim_jobs(ClaimParams::new("mine", 10, t, t + secs(30)))
        .await
        .unwrap();
    assert_eq!(rest.len(), 2);
    assert!(rest.iter().all(|j| j.queue_name == "mine"));
    let zero = storage
        .claim_jobs(ClaimParams::new("other", 0, t, t + secs(30)))
        .await
        .unwrap();
    assert!(zero.is_empty());
    assert_eq!(storage.queue_counts("other").await.unwrap().pending, 5);
}

/// Eight claimers racing over 2,000 jobs: every job is claimed exactly once.
pub async fn claim_concurrent_claimers_process_each_job_once<S: Storage + Clone>(storage: S) {
    const JOBS: usize = 2_000;
    let jobs: Vec<Job> = (0..JOBS).map(|i| Job::new("race", json!(i))).collect();
    let all: HashSet<_> = jobs.iter().map(|j| j.id).collect();
    storage.enqueue_many(jobs).await.unwrap();

    let seen = Arc::new(Mutex::new(Vec::with_capacity(JOBS)));
    let mut claimers = Vec::new();
    for _ in 0..8 {
        let storage = storage.clone();
        let seen = seen.clone();
        claimers.push(tokio::spawn(async move {
            loop {
                let t = now();
                let claimed = storage
                    .claim_jobs(ClaimParams::new("race", 25, t, t + secs(60)))
                    .await
                    .unwrap();
                if claimed.is_empty() {
                    return;
                }
                let settlements: Vec<_> = claimed
                    .iter()
                    .map(|j| Settlement::new(Lease::of(j), Outcome::Completed { result: None }))
                    .collect();
                let changed = storage.settle_jobs(&settlements, now()).await.unwrap();
                assert_eq!(changed as usize, claimed.len());
                seen.lock().unwrap().extend(claimed.iter().map(|j| j.id));
            }
        }));
    }
    for claimer in claimers {
        claimer.await.unwrap();
    }
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    let unique: HashSet<_> = seen.iter().copied().collect();
    assert_eq!(
        seen.len(),
        JOBS,
        "{} claims for {JOBS} jobs: some job was claimed twice",
        seen.len()
    );
    assert_eq!(unique, all);
    let counts = storage.queue_counts("race").await.unwrap();
    assert_eq!(counts.completed, JOBS as u64);
}

/// A queue name no database can store alike (a NUL character: PostgreSQL
/// refuses it in text) is refused by enqueue and pause with a typed error
/// naming it, and a read filtered by it finds nothing, on every backend;
/// nothing is written.
pub async fn queue_name_with_nul_is_refused_or_empty<S: Storage>(storage: S) {
    let bad = "a\0b";
    let job = Job::new(bad, json!({}));
    match storage.enqueue(job).await {
        Err(Error::InvalidJob { reason, .. }) => assert!(reason.contains("NUL"), "{reason}"),
        other => panic!("expected InvalidJob, got {other:?}"),
    }
    match storage.pause_queue(bad).await {
        Err(Error::Config(reason)) => assert!(reason.contains("NUL"), "{reason}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(storage.resume_queue(bad).await.is_err());
    let listed = storage
        .list_jobs(ListJobsParams::new().queue(bad))
        .await
        .unwrap();
    assert!(listed.is_empty());
    assert_eq!(
        storage.queue_counts(bad).await.unwrap(),
        QueueCounts::default()
    );
    let t = now();
    assert!(storage
        .claim_jobs(ClaimParams::new(bad, 10, t, t + secs(30)))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(storage.next_due(bad, t).await.unwrap(), None);
    let query = SpawnQuery::new().queue(bad);
    assert!(storage
        .list_spawn_operations(query.clone())
        .await
        .unwrap()
        .is_empty());
    assert_eq!(storage.spawn_stats(query).await.unwrap().operations, 0);
    assert!(storage.list_queues().await.unwrap().is_empty());
    assert!(storage.paused_queues().await.unwrap().is_empty());
}

/// A paused queue gives no job to a claim until it is resumed; other queues
/// and enqueues go on; pausing and resuming say whether they changed anything.
pub async fn claim_paused_queue_gives_nothing_until_resumed<S: Storage>(storage: S) {
    let jobs: Vec<Job> = (0..3).map(|i| Job::new("paused_q", json!(i))).collect();
    storage.enqueue_many(jobs).await.unwrap();
    storage
        .enqueue(Job::new("other_q", json!("other")))
        .await
        .unwrap();
    let claim = |queue: &str| {
        let t = now();
        storage.claim_jobs(ClaimParams::new(queue, 10, t, t + secs(30)))
    };

    assert!(storage.pause_queue("paused_q").await.unwrap());
    assert!(
        !storage.pause_queue("paused_q").await.unwrap(),
        "already paused"
    );
    assert!(storage.pause_queue(" ").await.is_err(), "no name");
    assert!(storage.pause_queue("no_jobs_yet").await.unwrap());
    assert_eq!(
        storage.paused_queues().await.unwrap(),
        vec!["no_jobs_yet".to_string(), "paused_q".to_string()]
    );
    assert!(claim("paused_q").await.unwrap().is_empty());
    assert_eq!(claim("other_q").await.unwrap().len(), 1, "other queues run");
    storage
        .enqueue(Job::new("paused_q", json!("while paused")))
        .await
        .unwrap();
    assert_eq!(storage.queue_counts("paused_q").await.unwrap().pending, 4);
    assert!(claim("paused_q").await.unwrap().is_empty());

    assert!(storage.resume_queue("paused_q").await.unwrap());
    assert!(
        !storage.resume_queue("paused_q").await.unwrap(),
        "not paused"
    );
    assert!(!storage.resume_queue("never_paused").await.unwrap());
    assert_eq!(
        storage.paused_queues().await.unwrap(),
        vec!["no_jobs_yet".to_string()]
    );
    assert_eq!(claim("paused_q").await.unwrap().len(), 4);

    // Paused again after a resume: the stored row is reused.
    storage
        .enqueue(Job::new("paused_q", json!("again")))
        .await
        .unwrap();
    assert!(storage.pause_queue("paused_q").await.unwrap());
    assert!(claim("paused_q").await.unwrap().is_empty());
    assert!(storage.resume_queue("paused_q").await.unwrap());
    assert_eq!(claim("paused_q").await.unwrap().len(), 1);
}
