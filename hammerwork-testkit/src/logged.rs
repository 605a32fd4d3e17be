//! What a test's thread logs, to count the engine's conflict retries.

use std::sync::{Arc, Mutex};

/// Log output of one thread: [`install`](Self::install) makes a subscriber
/// writing here the thread's default (INFO and above). Run the test on one
/// thread (`#[tokio::test]`) so that the log is its own.
#[derive(Clone, Default)]
pub struct Logged(Arc<Mutex<Vec<u8>>>);

impl Logged {
    /// Logs this thread's events here until the guard drops.
    pub fn install(&self) -> tracing::subscriber::DefaultGuard {
        let writer = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing_subscriber::filter::LevelFilter::INFO)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    /// Everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log poisoned")).into_owned()
    }

    /// How many times the engine retried a transaction that conflicted
    /// (deadlock, serialization failure, lock timeout, busy database).
    pub fn conflict_retries(&self) -> usize {
        self.text().matches("conflicted").count()
    }
}

impl std::io::Write for Logged {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log poisoned").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
