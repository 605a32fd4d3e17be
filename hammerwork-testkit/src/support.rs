use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use hammerwork_api::{ClaimParams, Job, Lease, Outcome, Settlement, Storage};
use serde_json::Value;

/// Longest any bounded wait in the suite waits before failing.
pub(crate) const WAIT_LIMIT: Duration = Duration::from_secs(20);

/// Polls `check` every 10 ms until it returns `Some`, failing the test with
/// `what` after [`WAIT_LIMIT`]. A bounded poll, not a sleep: it returns as soon
/// as the condition holds.
pub(crate) async fn wait_for<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + WAIT_LIMIT;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {WAIT_LIMIT:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The current time at microsecond precision (what every database keeps), so
/// round-tripped timestamps compare equal.
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

pub(crate) fn secs(n: i64) -> chrono::Duration {
    chrono::Duration::seconds(n)
}

/// Claims every ready job of `queue` (up to 1,000) at the current time.
pub(crate) async fn claim_all<S: Storage + ?Sized>(storage: &S, queue: &str) -> Vec<Job> {
    let t = now();
    storage
        .claim_jobs(ClaimParams::new(queue, 1_000, t, t + secs(60)))
        .await
        .expect("claim")
}

/// Settles one claimed attempt as completed; asserts it applied.
pub(crate) async fn complete<S: Storage + ?Sized>(storage: &S, job: &Job, result: Option<Value>) {
    settle_one(storage, job, Outcome::Completed { result }).await;
}

/// Settles one claimed attempt as failed for good (`Dead`); asserts it applied.
pub(crate) async fn fail_permanently<S: Storage + ?Sized>(storage: &S, job: &Job) {
    let failure = Outcome::Failed {
        error: "failed on purpose".into(),
        retry_at: None,
    };
    settle_one(storage, job, failure).await;
}

async fn settle_one<S: Storage + ?Sized>(storage: &S, job: &Job, outcome: Outcome) {
    let lease = Lease::of(job);
    let changed = storage
        .settle_jobs(&[Settlement::new(lease, outcome)], now())
        .await
        .expect("settle");
    assert_eq!(changed, 1, "settling job {} changed nothing", job.id);
}
