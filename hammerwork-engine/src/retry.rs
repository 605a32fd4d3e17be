//! The one policy for transient conflicts.

use std::future::Future;
use std::time::Duration;

use hammerwork_api::Result;

/// How many times an operation runs before its conflict reaches the caller.
const ATTEMPTS: u32 = 5;

/// The first backoff; each retry doubles it, with jitter of +-50%.
const FIRST_BACKOFF: Duration = Duration::from_millis(4);

/// Runs `op` (one whole transaction) again when it fails with a transient
/// conflict ([`Error::Conflict`](hammerwork_api::Error::Conflict): a deadlock
/// victim, a serialization failure, SQLite's busy timeout), after a jittered
/// backoff, up to [`ATTEMPTS`] times in all. The database rolled the failed
/// run back as a whole, so nothing of it remains.
pub(crate) async fn retry<T, F, Fut>(what: &'static str, mut op: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut attempt = 1;
    loop {
        match op().await {
            Err(err) if err.is_transient() && attempt < ATTEMPTS => {
                let backoff = FIRST_BACKOFF * 2u32.pow(attempt - 1);
                let backoff = backoff.mul_f64(0.5 + rand::random::<f64>());
                tracing::info!(
                    operation = what,
                    attempt,
                    error = %err,
                    ?backoff,
                    "hammerwork transaction conflicted; running it again"
                );
                tokio::time::sleep(backoff).await;
                attempt += 1;
            }
            result => return result,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hammerwork_api::Error;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn conflicts_are_retried_a_bounded_number_of_times() {
        let runs = AtomicU32::new(0);
        let result: Result<()> = retry("test", || async {
            runs.fetch_add(1, Ordering::SeqCst);
            Err(Error::Conflict("deadlock".into()))
        })
        .await;
        assert!(matches!(result, Err(Error::Conflict(_))));
        assert_eq!(runs.load(Ordering::SeqCst), ATTEMPTS);

        let runs = AtomicU32::new(0);
        let result = retry("test", || async {
            match runs.fetch_add(1, Ordering::SeqCst) {
                0 => Err(Error::Conflict("deadlock".into())),
                n => Ok(n),
            }
        })
        .await;
        assert_eq!(result.unwrap(), 1, "the second run's value");
    }

    #[tokio::test]
    async fn other_errors_are_not_retried() {
        let runs = AtomicU32::new(0);
        let result: Result<()> = retry("test", || async {
            runs.fetch_add(1, Ordering::SeqCst);
            Err(Error::backend("connection refused"))
        })
        .await;
        assert!(matches!(result, Err(Error::Backend(_))));
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }
}
