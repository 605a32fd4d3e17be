use std::collections::HashMap;
use std::time::Duration;

use hammerwork_api::{
    DatabaseQueue, Error, Job, JobPriority, JobStatus, ListJobsParams, Oversized, RetryPolicy,
    Storage,
};
use serde_json::json;

use crate::support::{now, secs};

/// Every field a caller sets survives a write and a read.
pub async fn enqueue_get_round_trip<S: Storage>(storage: S) {
    let at = now() + secs(30);
    let policy = RetryPolicy::Linear {
        initial_delay: Duration::from_millis(1500),
        increment: Duration::from_secs(2),
        max_delay: Duration::from_secs(60),
    };
    let job = Job::new(
        "round_trip",
        json!({"n": 1, "nested": {"list": [1, "two", null, true]}, "s": "ünïcødé"}),
    )
    .with_priority(JobPriority::High)
    .scheduled_at(at)
    .with_max_attempts(7)
    .with_timeout(Duration::from_millis(2500))
    .with_retry_policy(policy.clone())
    .with_trace_id("trace-abc")
    .with_correlation_id("order-42");
    let id = storage.enqueue(job.clone()).await.expect("enqueue");
    assert_eq!(id, job.id);

    let stored = storage.get_job(id).await.expect("get").expect("job exists");
    assert_eq!(stored, job, "stored job differs from the one enqueued");
    assert_eq!(stored.status, JobStatus::Pending);
    assert_eq!(stored.attempts, 0);
    assert_eq!(stored.retry_policy, Some(policy));

    let missing = storage
        .get_job(hammerwork_api::JobId::new())
        .await
        .expect("get");
    assert!(missing.is_none(), "an unknown id must read as None");
}

/// Many jobs go in with one call, keep their order, and are all readable.
pub async fn enqueue_bulk_in_one_call<S: Storage>(storage: S) {
    let jobs: Vec<Job> = (0..1_000)
        .map(|i| Job::new("bulk", json!({"i": i})))
        .collect();
    let expected: Vec<_> = jobs.iter().map(|j| j.id).collect();
    let ids = storage.enqueue_many(jobs).await.expect("bulk enqueue");
    assert_eq!(ids, expected, "ids come back in input order");
    let counts = storage.queue_counts("bulk").await.expect("counts");
    assert_eq!(counts.pending, 1_000);
    assert_eq!(counts.total(), 1_000);
    let last = storage
        .get_job(expected[999])
        .await
        .unwrap()
        .expect("last job");
    assert_eq!(last.payload, json!({"i": 999}));
}

/// Bad input is a typed error naming the problem, and a batch holding one bad
/// job writes none of its good ones.
pub async fn enqueue_rejects_bad_input_writing_nothing<S: Storage>(storage: S) {
    let empty_queue = storage.enqueue(Job::new("", json!({}))).await;
    assert!(
        matches!(&empty_queue, Err(Error::InvalidJob { reason, .. }) if reason.contains("queue name")),
        "empty queue name: {empty_queue:?}"
    );
    let zero_attempts = storage
        .enqueue(Job::new("bad", json!({})).with_max_attempts(0))
        .await;
    assert!(
        matches!(&zero_attempts, Err(Error::InvalidJob { reason, .. }) if reason.contains("max_attempts")),
        "max_attempts 0: {zero_attempts:?}"
    );
    let zero_timeout = storage
        .enqueue(Job::new("bad", json!({})).with_timeout(Duration::ZERO))
        .await;
    assert!(
        matches!(zero_timeout, Err(Error::InvalidJob { .. })),
        "zero timeout: {zero_timeout:?}"
    );

    let mut not_json = HashMap::new();
    not_json.insert(vec![1u8], "a map with non-string keys is not JSON");
    let payload = Job::try_new("bad", &not_json);
    assert!(
        matches!(payload, Err(Error::InvalidPayload(_))),
        "non-JSON payload: {payload:?}"
    );

    let good = Job::new("mixed", json!({"ok": true}));
    let bad = Job::new("mixed", json!({})).with_max_attempts(-1);
    let bad_id = bad.id;
    let mixed = storage.enqueue_many(vec![good.clone(), bad]).await;
    assert!(
        matches!(&mixed, Err(Error::InvalidJob { id, .. }) if *id == bad_id),
        "the error names the bad job: {mixed:?}"
    );
    assert!(
        storage.get_job(good.id).await.unwrap().is_none(),
        "the good job of a bad batch was written"
    );
    let all = storage.list_jobs(ListJobsParams::new()).await.unwrap();
    assert!(all.is_empty(), "bad input wrote {} jobs", all.len());
}

/// A payload over the storage's limit, or a batch whose payloads add up to
/// more than its batch limit, is refused with `TooLarge` naming it, and
/// nothing of the call is written; a payload exactly at the limit is stored.
pub async fn enqueue_over_size_limits_writes_nothing<S: Storage>(storage: S) {
    let limits = storage.limits();
    // A JSON string of n characters is n + 2 bytes of JSON.
    let sized = |bytes: usize| Job::new("sized", json!("x".repeat(bytes - 2)));
    let at_limit = sized(limits.max_payload_bytes);
    storage
        .enqueue(at_limit.clone())
        .await
        .expect("at the limit");
    let stored = storage.get_job(at_limit.id).await.unwrap().unwrap();
    assert_eq!(stored.payload, at_limit.payload);

    let good = sized(10);
    let over = sized(limits.max_payload_bytes + 1);
    let over_id = over.id;
    let refused = storage.enqueue_many(vec![good.clone(), over]).await;
    assert!(
        matches!(
            &refused,
            Err(Error::TooLarge { what: Oversized::Payload(id), bytes, limit })
                if *id == over_id && *bytes == limits.max_payload_bytes + 1
                    && *limit == limits.max_payload_bytes
        ),
        "{refused:?}"
    );
    assert!(storage.get_job(good.id).await.unwrap().is_none());

    let each = limits.max_payload_bytes;
    let count = limits.max_batch_bytes / each + 1;
    let batch: Vec<Job> = (0..count).map(|_| sized(each)).collect();
    let first = batch[0].id;
    let refused = storage.enqueue_many(batch).await;
    assert!(
        matches!(
            &refused,
            Err(Error::TooLarge { what: Oversized::Batch { jobs }, bytes, .. })
                if *jobs == count && *bytes == count * each
        ),
        "{refused:?}"
    );
    assert!(storage.get_job(first).await.unwrap().is_none());
    assert_eq!(storage.queue_counts("sized").await.unwrap().pending, 1);
}

/// Many single-job `enqueue` calls at once (which a storage may write in one
/// transaction): each caller gets its own answer, a duplicate among them
/// fails alone with `DuplicateJob`, and every other job is stored once.
pub async fn enqueue_concurrent_singles_fail_alone<S: Storage + Clone>(storage: S) {
    let stored = Job::new("singles", json!("stored first"));
    storage.enqueue(stored.clone()).await.unwrap();
    let mut jobs: Vec<Job> = (0..63).map(|i| Job::new("singles", json!(i))).collect();
    jobs.insert(31, stored.clone());
    let calls: Vec<_> = jobs
        .iter()
        .cloned()
        .map(|job| {
            let storage = storage.clone();
            tokio::spawn(async move { storage.enqueue(job).await })
        })
        .collect();
    let mut results = Vec::with_capacity(calls.len());
    for call in calls {
        results.push(call.await.expect("enqueue task panicked"));
    }
    for (job, result) in jobs.iter().zip(&results) {
        if job.id == stored.id {
            assert!(
                matches!(result, Err(Error::DuplicateJob { id }) if *id == stored.id),
                "{result:?}"
            );
        } else {
            assert_eq!(result.as_ref().ok(), Some(&job.id), "{result:?}");
        }
    }
    let listed = storage
        .list_jobs(ListJobsParams::new().queue("singles").limit(1000))
        .await
        .unwrap();
    assert_eq!(listed.len(), 64, "each job stored once");
}

/// Re-enqueueing an existing id fails with `DuplicateJob` naming it, and the
/// rest of that batch is not written.
pub async fn enqueue_duplicate_id_is_typed_error<S: Storage>(storage: S) {
    let first = Job::new("dup", json!({"v": 1}));
    storage.enqueue(first.clone()).await.expect("first enqueue");
    let fresh = Job::new("dup", json!({"v": 2}));
    let again = storage
        .enqueue_many(vec![fresh.clone(), first.clone()])
        .await;
    assert!(
        matches!(&again, Err(Error::DuplicateJob { id }) if *id == first.id),
        "duplicate id: {again:?}"
    );
    assert!(
        storage.get_job(fresh.id).await.unwrap().is_none(),
        "half a batch was written"
    );
    let stored = storage.get_job(first.id).await.unwrap().unwrap();
    assert_eq!(
        stored.payload,
        json!({"v": 1}),
        "the original job was overwritten"
    );
}
