use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use hammerwork_api::Storage;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::worker::Worker;

/// Runs several [`Worker`]s (one per queue, or several on one queue) and
/// stops them together.
///
/// ```no_run
/// # async fn demo(storage: impl hammerwork::Storage + Clone) {
/// use std::time::Duration;
/// use hammerwork::{HandlerResult, JobContext, Worker, WorkerPool};
///
/// let pool = WorkerPool::new()
///     .add_worker(Worker::new(storage.clone(), "emails", |_: JobContext| async { HandlerResult::Ok(None) }))
///     .add_worker(Worker::new(storage, "reports", |_: JobContext| async { HandlerResult::Ok(None) }))
///     .with_shutdown_timeout(Duration::from_secs(10))
///     .start();
/// pool.shutdown().await;
/// # }
/// ```
pub struct WorkerPool<S: Storage + Clone> {
    workers: Vec<Worker<S>>,
    shutdown_timeout: Duration,
}

impl<S: Storage + Clone> Default for WorkerPool<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Storage + Clone> WorkerPool<S> {
    /// An empty pool with a 30 s shutdown grace period.
    pub fn new() -> Self {
        WorkerPool {
            workers: Vec::new(),
            shutdown_timeout: Duration::from_secs(30),
        }
    }

    /// Adds a worker.
    pub fn add_worker(mut self, worker: Worker<S>) -> Self {
        self.workers.push(worker);
        self
    }

    /// How long shutdown waits for running jobs before giving them back.
    pub fn with_shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Starts every worker on the current Tokio runtime.
    pub fn start(self) -> WorkerPoolHandle {
        let (tx, rx) = watch::channel(false);
        // Every worker task holds the sender too: dropping the handle must
        // leave the workers running, not close the channel under them.
        let tx = Arc::new(tx);
        let tasks = self
            .workers
            .into_iter()
            .map(|worker| {
                let span = tracing::info_span!("hammerwork.worker", queue = %worker.queue);
                let keep_open = tx.clone();
                let run = worker.run(rx.clone(), self.shutdown_timeout);
                tokio::spawn(tracing::Instrument::instrument(
                    async move {
                        run.await;
                        drop(keep_open);
                    },
                    span,
                ))
            })
            .collect();
        WorkerPoolHandle {
            shutdown: tx,
            tasks,
        }
    }
}

/// A running pool. Dropping it leaves the workers running (for the life of the
/// runtime); call [`shutdown`](Self::shutdown) to stop them cleanly.
pub struct WorkerPoolHandle {
    shutdown: Arc<watch::Sender<bool>>,
    tasks: Vec<JoinHandle<()>>,
}

impl WorkerPoolHandle {
    /// Stops claiming, gives back claimed jobs that had not started, waits for
    /// running jobs up to the shutdown timeout (giving back any still running),
    /// writes every outcome, and returns when all of that is done.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for result in join_all(self.tasks).await {
            if let Err(err) = result {
                tracing::error!(error = %err, "worker task failed");
            }
        }
    }
}
