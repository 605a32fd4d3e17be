//! Checks that need a backend's own SQL to set up: each takes the storage
//! and a function that changes a stored row behind the storage's back, and is
//! called from that backend's behaviour tests.

use std::future::Future;

use hammerwork_api::schedule::{RecurrenceSource, SeriesBackoff};
use hammerwork_api::{
    ClaimParams, DatabaseQueue, DependencyStatus, Job, JobId, JobStatus, Lease, Outcome,
    Settlement, Storage,
};
use serde_json::json;

use crate::support::{now, secs};

/// A retry policy no version of Hammerwork writes: what a row stored by a
/// newer version, or a policy that became `null`, reads as.
pub const UNREADABLE_RETRY_POLICY: &str = r#"{"kind": "fibonacci", "base": 1000}"#;

/// One claimed row that cannot be read ends alone. `set_retry_policy(id,
/// json)` stores `json` (SQL `NULL` for `None`) as job `id`'s retry policy.
/// With [`UNREADABLE_RETRY_POLICY`] stored in one of three jobs, a claim of
/// the queue returns the other two, running; the bad one is not claimed
/// again, its dependent fails rather than waiting forever, and once the row
/// is readable again it shows the job dead with an error naming the column.
pub async fn unreadable_row_ends_alone<S, F, Fut>(storage: S, mut set_retry_policy: F)
where
    S: Storage,
    F: FnMut(JobId, Option<&'static str>) -> Fut,
    Fut: Future<Output = ()>,
{
    let (a, bad, c) = (
        Job::new("unreadable", json!("a")),
        Job::new("unreadable", json!("bad")),
        Job::new("unreadable", json!("c")),
    );
    let dependent = Job::new("unreadable_next", json!({})).depends_on(&bad.id);
    storage
        .enqueue_many(vec![a.clone(), bad.clone(), c.clone(), dependent.clone()])
        .await
        .unwrap();
    set_retry_policy(bad.id, Some(UNREADABLE_RETRY_POLICY)).await;

    let at = now();
    let claimed = storage
        .claim_jobs(ClaimParams::new("unreadable", 10, at, at + secs(30)))
        .await
        .expect("a claim with one unreadable row still returns the others");
    let mut ids: Vec<JobId> = claimed.iter().map(|j| j.id).collect();
    ids.sort();
    assert_eq!(ids, vec![a.id, c.id]);
    assert!(claimed.iter().all(|j| j.status == JobStatus::Running));

    let again = storage
        .claim_jobs(ClaimParams::new("unreadable", 10, at, at + secs(30)))
        .await
        .unwrap();
    assert!(again.is_empty(), "the bad row is not claimed again");
    let dependent = storage.get_job(dependent.id).await.unwrap().unwrap();
    assert_eq!(dependent.status, JobStatus::Dead, "{dependent:?}");
    assert_eq!(dependent.dependency_status, DependencyStatus::Failed);

    assert!(
        storage.get_job(bad.id).await.is_err(),
        "reading the bad row by itself reports it"
    );
    set_retry_policy(bad.id, None).await;
    let bad = storage.get_job(bad.id).await.unwrap().unwrap();
    assert_eq!(bad.status, JobStatus::Dead);
    let error = bad.error_message.unwrap_or_default();
    assert!(
        error.contains("could not be read") && error.contains("retry_policy"),
        "{error}"
    );
}

/// A recurring series that fails to move is backed off, not tried on every
/// tick, while the other series move; a success forgets it. `strict` and
/// `lenient` are one database under default limits and under limits that
/// allow a 2 MiB payload: the series' job was stored through `lenient`, so
/// under `strict` its next occurrence is refused (`TooLarge`) every time.
pub async fn failing_series_backs_off<S: Storage>(strict: S, lenient: S) {
    let big = Job::new("series_big", json!("x".repeat(2 << 20))).with_cron_schedule("0 0 * * * *");
    let small = Job::new("series_small", json!({})).with_cron_schedule("0 0 * * * *");
    lenient
        .enqueue_many(vec![big.clone(), small.clone()])
        .await
        .unwrap();
    for queue in ["series_big", "series_small"] {
        // Past the first occurrence's hour.
        let t = now() + secs(3_600);
        let claimed = lenient
            .claim_jobs(ClaimParams::new(queue, 10, t, t + secs(60)))
            .await
            .unwrap();
        assert_eq!(claimed.len(), 1);
        let lease = Lease::of(&claimed[0]);
        let done = Settlement::new(lease, Outcome::Completed { result: None });
        assert_eq!(lenient.settle_jobs(&[done], t).await.unwrap(), 1);
    }
    let source = RecurrenceSource::Job(big.id);
    let mut backoff = SeriesBackoff::new();
    let t0 = now();
    assert_eq!(
        strict
            .advance_recurrences_with(t0, &mut backoff)
            .await
            .unwrap(),
        1,
        "the good series moves"
    );
    assert_eq!(backoff.failures(source), 1);
    // Tried again only once each wait is over: 1 s, then 2 s, then 4 s.
    let ms = chrono::Duration::milliseconds;
    for (at, failures) in [
        (500, 1),
        (1_000, 2),
        (2_500, 2),
        (3_000, 3),
        (6_900, 3),
        (7_000, 4),
    ] {
        strict
            .advance_recurrences_with(t0 + ms(at), &mut backoff)
            .await
            .unwrap();
        assert_eq!(backoff.failures(source), failures, "at +{at} ms");
    }
    assert_eq!(
        lenient
            .advance_recurrences_with(t0 + ms(15_000), &mut backoff)
            .await
            .unwrap(),
        1,
        "the series moves once it can"
    );
    assert_eq!(backoff.failures(source), 0, "a success is forgotten");
    assert!(backoff.ready(source, t0 + ms(15_000)));
}
