//! A worker at its defaults sizes its claims to its jobs: a backlog of jobs
//! that finish faster than a claim's round trip is claimed in batches larger
//! than the starting 4 x concurrency (its own test binary: the metrics
//! recorder that reads the claim sizes is the process's).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
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

/// Keeps the largest claim size; every other metric is dropped.
struct ClaimSizes(Arc<Largest>);

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
        if key.name() == CLAIM_BATCH_SIZE {
            Histogram::from_arc(self.0.clone())
        } else {
            Histogram::noop()
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_grow_for_jobs_that_finish_within_a_round_trip() {
    const JOBS: usize = 5_000;
    let largest = Arc::new(Largest::default());
    metrics::set_global_recorder(ClaimSizes(largest.clone())).unwrap();

    let storage = SqliteStorage::connect("sqlite::memory:").await.unwrap();
    storage.migrate().await.unwrap();
    let jobs = (0..JOBS).map(|n| Job::new("fast", json!(n))).collect();
    storage.enqueue_many(jobs).await.unwrap();

    // Defaults: 16 at once, so claims start at 64.
    let running = Worker::new(storage.clone(), "fast", |_: JobContext| async {
        HandlerResult::Ok(None)
    })
    .start();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while storage.queue_counts("fast").await.unwrap().completed < JOBS as u64 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the backlog did not drain"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    running.shutdown().await;

    let largest = largest.0.load(Ordering::Relaxed);
    assert!(
        largest > 64,
        "no claim took more than the starting 64 jobs (largest {largest})"
    );
    assert!(largest <= 1_000, "a claim of {largest} jobs");
}
