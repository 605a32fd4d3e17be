//! Running real workers in a test until their queues are done, for tests of
//! tools (the CLI, the web API) that need jobs to have run.

use std::time::Duration;

use async_trait::async_trait;
use hammerwork::spawn::{SpawnContext, SpawnHandler, SpawnManager};
use hammerwork::{HandlerResult, Job, JobContext, Storage, StorageDatabase, Worker, WorkerPool};
use serde_json::json;

/// A spawn handler that writes three children on `queue`, each carrying its
/// part number and its parent's id.
pub struct ThreeChildren {
    /// The children's queue.
    pub queue: &'static str,
}

#[async_trait]
impl<DB: 'static> SpawnHandler<DB> for ThreeChildren {
    async fn spawn_jobs(&self, context: SpawnContext<DB>) -> hammerwork::Result<Vec<Job>> {
        let parent = context.parent_job.id;
        Ok((0..3)
            .map(|i| Job::new(self.queue, json!({ "part": i, "of": parent })))
            .collect())
    }
}

/// Runs a worker on each of `queues` (each job completes with
/// `{"done": payload}`; on `spawning`, the [`ThreeChildren`] handler is
/// registered as `"three"`, its children going to `children`) until none of
/// their jobs is pending, retrying or running, then shuts them down.
///
/// # Panics
/// When jobs are still open after 30 s (a bounded poll of the queue counts).
pub async fn work_until_idle<S: Storage + Clone + StorageDatabase>(
    storage: S,
    queues: &[&str],
    spawning: Option<(&str, &'static str)>,
) {
    let mut pool = WorkerPool::new().with_shutdown_timeout(Duration::from_secs(5));
    for queue in queues {
        let mut worker = Worker::new(storage.clone(), *queue, |ctx: JobContext| async move {
            HandlerResult::Ok(Some(json!({ "done": ctx.payload })))
        });
        if let Some((parent_queue, children)) = spawning.filter(|(q, _)| q == queue) {
            let _ = parent_queue;
            let mut manager = SpawnManager::<S::Database>::new();
            manager.register_handler("three", ThreeChildren { queue: children });
            worker = worker.with_spawn_manager(manager);
        }
        pool = pool.add_worker(worker);
    }
    let running = pool.start();
    until_idle(&storage, queues, Duration::from_secs(30)).await;
    running.shutdown().await;
}

/// Waits until none of `queues`' jobs is pending, retrying or running (a
/// bounded poll of the queue counts every 20 ms).
///
/// # Panics
/// When jobs are still open after `within`.
pub async fn until_idle<S: Storage + ?Sized>(storage: &S, queues: &[&str], within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let mut open = 0;
        for queue in queues {
            let c = storage.queue_counts(queue).await.expect("counts");
            open += c.pending + c.retrying + c.running;
        }
        if open == 0 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{open} jobs still open after {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
