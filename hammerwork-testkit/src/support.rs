use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};

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
