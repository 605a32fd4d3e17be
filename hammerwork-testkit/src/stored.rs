//! Checks that need a backend's own SQL to set up: each takes the storage
//! and a function that changes a stored row behind the storage's back, and is
//! called from that backend's behaviour tests.

use std::future::Future;

use hammerwork_api::{
    ClaimParams, DatabaseQueue, DependencyStatus, Job, JobId, JobStatus, Storage,
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
