//! A worker at its defaults sizes its claims to its jobs: a backlog of jobs
//! that finish faster than a claim's round trip is claimed in batches larger
//! than the starting 4 x concurrency (its own test binary: the metrics
//! recorder that reads the claim sizes is the process's).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use hammerwork::metrics::CLAIM_BATCH_SIZE;
use hammerwork::{DatabaseQueue, HandlerResult, Job, JobContext, SqliteStorage, Storage, Worker};
use metrics::{
    Counter, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder, SharedString, Unit,
};
use serde_json::json;

/// The largest value recorded in one histogram.
#[derive(Default)]
struct Largest(AtomicU64);

impl HistogramFn for Largest {
    fn record(&self, value: f64) {
        self.0.fetch_max(value as u64, Ordering::Relaxed);
    }
}

/// Keeps the largest claim size of each queue; every other metric is
/// dropped.
#[derive(Default)]
struct ClaimSizes(Mutex<HashMap<String, Arc<Largest>>>);

impl ClaimSizes {
    /// The recorder of this process, installed on first use.
    fn installed() -> &'static ClaimSizes {
        static SIZES: OnceLock<&'static ClaimSizes> = OnceLock::new();
        SIZES.get_or_init(|| {
            let sizes: &'static ClaimSizes = Box::leak(Box::default());
            metrics::set_global_recorder(sizes).unwrap();
            sizes
        })
    }

    fn of(&self, queue: &str) -> Arc<Largest> {
        let mut queues = self.0.lock().unwrap();
        queues.entry(queue.to_string()).or_default().clone()
    }
}

impl Recorder for ClaimSizes {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, _: &Key, _: &Metadata<'_>) -> Counter {
        Counter::noop()
    }

    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        let queue = key.labels().find(|l| l.key() == "queue");
        match queue {
            Some(queue) if key.name() == CLAIM_BATCH_SIZE => {
                Histogram::from_arc(self.of(queue.value()))
            }
            _ => Histogram::noop(),
        }
    }
}

/// The largest claim a worker at its defaults (16 at once: claims start at
/// 64) made on a backlog of `jobs` jobs that each take `work`.
async fn largest_claim(queue: &str, jobs: usize, work: Duration) -> u64 {
    let largest = ClaimSizes::installed().of(queue);
    let storage = SqliteStorage::connect("sqlite::memory:").await.unwrap();
    storage.migrate().await.unwrap();
    let backlog = (0..jobs).map(|n| Job::new(queue, json!(n))).collect();
    storage.enqueue_many(backlog).await.unwrap();

    let running = Worker::new(storage.clone(), queue, move |_: JobContext| async move {
        if !work.is_zero() {
            tokio::time::sleep(work).await;
        }
        HandlerResult::Ok(None)
    })
    .start();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while storage.queue_counts(queue).await.unwrap().completed < jobs as u64 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the backlog of {queue} did not drain"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    running.shutdown().await;
    largest.0.load(Ordering::Relaxed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_grow_for_jobs_that_finish_within_a_round_trip() {
    let largest = largest_claim("fast", 5_000, Duration::ZERO).await;
    assert!(
        largest > 128,
        "claims did not grow past 2 x the starting 64 jobs (largest {largest})"
    );
    assert!(largest <= 10_000, "a claim of {largest} jobs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_stay_at_the_start_for_jobs_slower_than_a_round_trip() {
    let largest = largest_claim("slow", 300, Duration::from_millis(50)).await;
    assert_eq!(
        largest, 64,
        "a worker of slow jobs claimed more than it needs at once"
    );
}
