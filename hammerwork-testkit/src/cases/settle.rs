use std::time::Duration;

use hammerwork_api::spawn::{plan_spawn, SpawnConfig};
use hammerwork_api::{
    ClaimParams, DatabaseQueue, Error, Job, JobStatus, Lease, Outcome, Oversized, RetryPolicy,
    Settlement, Storage,
};
use serde_json::json;

use crate::support::{claim_all, now, secs};

fn lease(job: &Job) -> Lease {
    Lease::of(job)
}

/// A completion stores the handler's result and clears the lease.
pub async fn settle_completed_stores_result<S: Storage>(storage: S) {
    storage
        .enqueue_many(vec![Job::new("done", json!(1)), Job::new("done", json!(2))])
        .await
        .unwrap();
    let t = now();
    let claimed = storage
        .claim_jobs(ClaimParams::new("done", 2, t, t + secs(30)))
        .await
        .unwrap();
    let settlements = vec![
        Settlement::new(
            lease(&claimed[0]),
            Outcome::Completed {
                result: Some(json!({"rows": 42})),
            },
        ),
        Settlement::new(lease(&claimed[1]), Outcome::Completed { result: None }),
    ];
    let at = now();
    assert_eq!(storage.settle_jobs(&settlements, at).await.unwrap(), 2);
    let with_result = storage.get_job(claimed[0].id).await.unwrap().unwrap();
    assert_eq!(with_result.status, JobStatus::Completed);
    assert_eq!(with_result.result, Some(json!({"rows": 42})));
    assert_eq!(with_result.completed_at, Some(at));
    assert_eq!(with_result.lease_expires_at, None);
    let without = storage.get_job(claimed[1].id).await.unwrap().unwrap();
    assert_eq!(without.status, JobStatus::Completed);
    assert_eq!(without.result, None);
    // Settling the same attempt twice changes nothing.
    assert_eq!(storage.settle_jobs(&settlements, now()).await.unwrap(), 0);
}

/// A result over the storage's limit is not stored: the attempt fails for
/// good, its error naming the size (so does `complete_and_spawn`, writing
/// nothing). An error message or cancel reason over the limit is cut to it.
pub async fn settle_over_size_limits_fail_or_cut<S: Storage>(storage: S) {
    let limits = storage.limits();
    storage
        .enqueue_many((0..4).map(|i| Job::new("sizes", json!(i))).collect())
        .await
        .unwrap();
    let claimed = claim_all(&storage, "sizes").await;
    let huge = json!("r".repeat(limits.max_result_bytes));
    let long = "e".repeat(limits.max_error_bytes * 4);
    let settlements = [
        Settlement::new(
            lease(&claimed[0]),
            Outcome::Completed {
                result: Some(huge.clone()),
            },
        ),
        Settlement::new(
            lease(&claimed[1]),
            Outcome::Failed {
                error: long.clone(),
                retry_at: None,
            },
        ),
        Settlement::new(
            lease(&claimed[2]),
            Outcome::Cancelled {
                reason: long.clone(),
            },
        ),
    ];
    assert_eq!(storage.settle_jobs(&settlements, now()).await.unwrap(), 3);
    let too_big = storage.get_job(claimed[0].id).await.unwrap().unwrap();
    assert_eq!(too_big.status, JobStatus::Dead);
    assert_eq!(too_big.result, None);
    let why = too_big.error_message.unwrap();
    assert!(
        why.contains("result") && why.contains(&limits.max_result_bytes.to_string()),
        "{why}"
    );
    for (job, status) in [
        (&claimed[1], JobStatus::Dead),
        (&claimed[2], JobStatus::Cancelled),
    ] {
        let cut = storage.get_job(job.id).await.unwrap().unwrap();
        assert_eq!(cut.status, status);
        let message = cut.error_message.unwrap();
        assert!(
            message.len() <= limits.max_error_bytes,
            "{} bytes",
            message.len()
        );
        assert!(message.starts_with("eeee"));
        assert!(
            message.ends_with(&format!("[cut from {} bytes]", long.len())),
            "{message}"
        );
    }

    let config = SpawnConfig::new()
        .with_handler("test")
        .with_operation_id("op-sizes");
    let child = Job::new("sizes_child", json!({}));
    let spawn = plan_spawn(&claimed[3], &config, vec![child], now()).unwrap();
    let refused = storage
        .complete_and_spawn(lease(&claimed[3]), Some(huge), &spawn, now())
        .await;
    assert!(
        matches!(&refused, Err(Error::TooLarge { what: Oversized::Result(id), .. }) if *id == claimed[3].id),
        "{refused:?}"
    );
    let parent = storage.get_job(claimed[3].id).await.unwrap().unwrap();
    assert_eq!(parent.status, JobStatus::Running, "nothing was written");
    assert!(storage
        .get_spawn_operation("op-sizes")
        .await
        .unwrap()
        .is_none());
}

/// A failed attempt waits for its backoff as `Retrying`, is claimable again at
/// `retry_at` and not before, and the last attempt's failure makes it `Dead`.
pub async fn settle_retry_with_backoff_then_dead<S: Storage>(storage: S) {
    let policy = RetryPolicy::Fixed {
        delay: Duration::from_secs(10),
    };
    let job = Job::new("retry", json!({}))
        .with_max_attempts(3)
        .with_retry_policy(policy);
    storage.enqueue(job.clone()).await.unwrap();

    let mut t = now();
    for attempt in 1..=3 {
        let claimed = storage
            .claim_jobs(ClaimParams::new("retry", 1, t, t + secs(30)))
            .await
            .unwrap();
        assert_eq!(
            claimed.len(),
            1,
            "attempt {attempt} was not claimable at its retry time"
        );
        let running = &claimed[0];
        assert_eq!(running.attempts, attempt);
        let retry_at = running.next_retry_at(t, 0.0);
        assert_eq!(
            retry_at.is_some(),
            attempt < 3,
            "attempts left after attempt {attempt}"
        );
        // Even when the caller offers a retry time, no attempt is left after the third.
        let offered = retry_at.or(Some(t + secs(10)));
        let failure = Outcome::Failed {
            error: format!("boom {attempt}"),
            retry_at: offered,
        };
        assert_eq!(
            storage
                .settle_jobs(&[Settlement::new(lease(running), failure)], t)
                .await
                .unwrap(),
            1
        );

        let stored = storage.get_job(job.id).await.unwrap().unwrap();
        assert_eq!(
            stored.error_message.as_deref(),
            Some(format!("boom {attempt}").as_str())
        );
        assert_eq!(stored.failed_at, Some(t));
        if attempt < 3 {
            assert_eq!(stored.status, JobStatus::Retrying);
            assert_eq!(stored.scheduled_at, t + secs(10));
            let early = storage
                .claim_jobs(ClaimParams::new("retry", 1, t + secs(9), t + secs(30)))
                .await
                .unwrap();
            assert!(early.is_empty(), "retried before its backoff elapsed");
            t += secs(10);
        } else {
            assert_eq!(stored.status, JobStatus::Dead);
            let never = storage
                .claim_jobs(ClaimParams::new("retry", 1, t + secs(3600), t + secs(3700)))
                .await
                .unwrap();
            assert!(never.is_empty(), "a dead job was claimed");
        }
    }

    // A failure without retry_at is permanent at once.
    let permanent = Job::new("retry_permanent", json!({})).with_max_attempts(5);
    storage.enqueue(permanent.clone()).await.unwrap();
    let claimed = storage
        .claim_jobs(ClaimParams::new("retry_permanent", 1, t, t + secs(30)))
        .await
        .unwrap();
    let failure = Outcome::Failed {
        error: "fatal".into(),
        retry_at: None,
    };
    storage
        .settle_jobs(&[Settlement::new(lease(&claimed[0]), failure)], t)
        .await
        .unwrap();
    assert_eq!(
        storage.get_job(permanent.id).await.unwrap().unwrap().status,
        JobStatus::Dead
    );
}

/// An outcome for an attempt that is no longer current (its lease expired and
/// the job was claimed again) changes nothing.
pub async fn settle_ignores_stale_attempt<S: Storage>(storage: S) {
    let job = Job::new("stale", json!({}));
    storage.enqueue(job.clone()).await.unwrap();
    let t = now();
    let first = storage
        .claim_jobs(ClaimParams::new("stale", 1, t, t + secs(5)))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(storage.rescue_expired_jobs(t + secs(6)).await.unwrap(), 1);
    let second = storage
        .claim_jobs(ClaimParams::new("stale", 1, t + secs(7), t + secs(60)))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(second.attempts, 2);

    let late = Settlement::new(
        lease(&first),
        Outcome::Completed {
            result: Some(json!("stale")),
        },
    );
    assert_eq!(storage.settle_jobs(&[late], t + secs(8)).await.unwrap(), 0);
    let stored = storage.get_job(job.id).await.unwrap().unwrap();
    assert_eq!(
        stored.status,
        JobStatus::Running,
        "a stale worker settled the new attempt"
    );
    assert_eq!(stored.result, None);

    let current = Settlement::new(
        lease(&second),
        Outcome::Completed {
            result: Some(json!("fresh")),
        },
    );
    assert_eq!(
        storage.settle_jobs(&[current], t + secs(9)).await.unwrap(),
        1
    );
    assert_eq!(
        storage.get_job(job.id).await.unwrap().unwrap().result,
        Some(json!("fresh"))
    );
}

/// A job given back before it started is claimable at once with its attempt
/// not counted; one given back after starting keeps the attempt, and one
/// interrupted on its last allowed attempt is `Dead`.
pub async fn settle_give_back_unstarted_is_not_counted<S: Storage>(storage: S) {
    storage
        .enqueue_many(vec![
            Job::new("give_back", json!(1)),
            Job::new("give_back", json!(2)),
        ])
        .await
        .unwrap();
    let t = now();
    let claimed = storage
        .claim_jobs(ClaimParams::new("give_back", 2, t, t + secs(30)))
        .await
        .unwrap();
    let settlements = vec![
        Settlement::new(lease(&claimed[0]), Outcome::GiveBack { started: false }),
        Settlement::new(lease(&claimed[1]), Outcome::GiveBack { started: true }),
    ];
    assert_eq!(storage.settle_jobs(&settlements, t).await.unwrap(), 2);
    let unstarted = storage.get_job(claimed[0].id).await.unwrap().unwrap();
    assert_eq!(
        (unstarted.status, unstarted.attempts),
        (JobStatus::Pending, 0)
    );
    assert_eq!(unstarted.lease_expires_at, None);
    let started = storage.get_job(claimed[1].id).await.unwrap().unwrap();
    assert_eq!((started.status, started.attempts), (JobStatus::Pending, 1));
    let again = storage
        .claim_jobs(ClaimParams::new("give_back", 2, t, t + secs(30)))
        .await
        .unwrap();
    assert_eq!(again.len(), 2, "given-back jobs must be claimable at once");
}

/// One batch holding two outcomes for one attempt (a worker that stops
/// after its handler finished sends the result and a give-back) applies one:
/// the handler's result. The job counts once in its workflow, and its
/// dependent waits for its other parent.
pub async fn settle_two_outcomes_for_one_attempt_apply_once<S: Storage>(storage: S) {
    let (a, b) = (Job::new("twice", json!("a")), Job::new("twice", json!("b")));
    let child = Job::new("twice_child", json!({}))
        .depends_on(&a.id)
        .depends_on(&b.id);
    let group = hammerwork_api::JobGroup::new("twice")
        .add_parallel_jobs(vec![a.clone(), b.clone()])
        .add_job(child.clone());
    let workflow = storage.enqueue_workflow(group).await.unwrap();
    let running = claim_all(&storage, "twice").await;
    let first = running.iter().find(|j| j.id == a.id).expect("a claimed");
    let lease = Lease::of(first);
    let result = Some(json!({"done": true}));
    let batch = [
        Settlement::new(lease, Outcome::GiveBack { started: true }),
        Settlement::new(
            lease,
            Outcome::Completed {
                result: result.clone(),
            },
        ),
        Settlement::new(lease, Outcome::Completed { result: None }),
    ];
    let changed = storage.settle_jobs(&batch, now()).await.unwrap();
    assert_eq!(changed, 1, "one attempt settles once");
    let stored = storage.get_job(a.id).await.unwrap().unwrap();
    assert_eq!(stored.status, JobStatus::Completed, "the result stands");
    assert_eq!(stored.result, result);
    let stats = storage.get_workflow_stats(workflow).await.unwrap();
    assert_eq!(stats.completed_jobs, 1, "{stats:?}");
    let waiting = storage.get_job(child.id).await.unwrap().unwrap();
    assert_eq!(waiting.pending_dependencies, 1, "still waits for b");
    assert!(claim_all(&storage, "twice_child").await.is_empty());
}
