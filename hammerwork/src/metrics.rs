//! What workers do, recorded through the [`metrics`](https://docs.rs/metrics)
//! facade: install any recorder before starting workers and these appear in
//! it. With the `prometheus` feature, [`prometheus`] installs a Prometheus
//! recorder and [`serve_prometheus`] also serves it over HTTP, in one call.
//!
//! | metric | kind | labels | what |
//! |---|---|---|---|
//! | `hammerwork_jobs_claimed_total` | counter | `queue` | jobs claimed by this process's workers |
//! | `hammerwork_claim_batch_size` | histogram | `queue` | jobs per claim that found any |
//! | `hammerwork_jobs_completed_total` | counter | `queue` | attempts that completed (a spawning job's once its children are written) |
//! | `hammerwork_jobs_failed_total` | counter | `queue` | attempts that failed, whether retried or not |
//! | `hammerwork_jobs_dead_total` | counter | `queue` | of those, the ones that left the job dead (no retry) |
//! | `hammerwork_jobs_cancelled_total` | counter | `queue` | attempts that cancelled their job |
//! | `hammerwork_job_duration_seconds` | histogram | `queue` | handler run time per attempt |
//! | `hammerwork_settle_duration_seconds` | histogram | `queue` | time to write one batch of outcomes |
//! | `hammerwork_spawn_operations_total` | counter | `queue` | spawns written (a parent's completion with its children) |
//! | `hammerwork_spawned_jobs_total` | counter | `queue` | children those spawns wrote |
//! | `hammerwork_jobs_rescued_total` | counter | | jobs whose lease expired, put back by this process |
//! | `hammerwork_queue_jobs` | gauge | `queue`, `status` | jobs per status, set by [`record_queue_depths`] |
//! | `hammerwork_queue_paused` | gauge | `queue` | 1 when the queue is paused |
//!
//! Counters count what this process wrote; a worker records into the
//! recorder installed when it started (handles are taken once per worker,
//! so the hot path is an atomic add).

use std::time::Duration;

use ::metrics::{counter, gauge, histogram, Counter, Histogram};
use hammerwork_api::{DatabaseQueue, JobStatus, Outcome, Settlement, Storage};

/// Counter: jobs claimed.
pub const JOBS_CLAIMED: &str = "hammerwork_jobs_claimed_total";
/// Histogram: jobs per claim that found any.
pub const CLAIM_BATCH_SIZE: &str = "hammerwork_claim_batch_size";
/// Counter: attempts that completed.
pub const JOBS_COMPLETED: &str = "hammerwork_jobs_completed_total";
/// Counter: attempts that failed.
pub const JOBS_FAILED: &str = "hammerwork_jobs_failed_total";
/// Counter: failed attempts that left their job dead.
pub const JOBS_DEAD: &str = "hammerwork_jobs_dead_total";
/// Counter: attempts that cancelled their job.
pub const JOBS_CANCELLED: &str = "hammerwork_jobs_cancelled_total";
/// Histogram: handler run time, seconds.
pub const JOB_DURATION: &str = "hammerwork_job_duration_seconds";
/// Histogram: time to write one batch of outcomes, seconds.
pub const SETTLE_DURATION: &str = "hammerwork_settle_duration_seconds";
/// Counter: spawns written.
pub const SPAWN_OPERATIONS: &str = "hammerwork_spawn_operations_total";
/// Counter: children spawned.
pub const SPAWNED_JOBS: &str = "hammerwork_spawned_jobs_total";
/// Counter: jobs rescued after their lease expired.
pub const JOBS_RESCUED: &str = "hammerwork_jobs_rescued_total";
/// Gauge: jobs per queue and status.
pub const QUEUE_JOBS: &str = "hammerwork_queue_jobs";
/// Gauge: 1 when the queue is paused.
pub const QUEUE_PAUSED: &str = "hammerwork_queue_paused";

/// One worker's handles, labelled with its queue.
pub(crate) struct QueueMetrics {
    claimed: Counter,
    claim_batch: Histogram,
    completed: Counter,
    failed: Counter,
    dead: Counter,
    cancelled: Counter,
    duration: Histogram,
    settle: Histogram,
    spawn_operations: Counter,
    spawned: Counter,
}

impl QueueMetrics {
    pub(crate) fn new(queue: &str) -> Self {
        let label = || [("queue", queue.to_string())];
        QueueMetrics {
            claimed: counter!(JOBS_CLAIMED, &label()),
            claim_batch: histogram!(CLAIM_BATCH_SIZE, &label()),
            completed: counter!(JOBS_COMPLETED, &label()),
            failed: counter!(JOBS_FAILED, &label()),
            dead: counter!(JOBS_DEAD, &label()),
            cancelled: counter!(JOBS_CANCELLED, &label()),
            duration: histogram!(JOB_DURATION, &label()),
            settle: histogram!(SETTLE_DURATION, &label()),
            spawn_operations: counter!(SPAWN_OPERATIONS, &label()),
            spawned: counter!(SPAWNED_JOBS, &label()),
        }
    }

    pub(crate) fn claimed(&self, jobs: usize) {
        if jobs > 0 {
            self.claimed.increment(jobs as u64);
            self.claim_batch.record(jobs as f64);
        }
    }

    pub(crate) fn ran(&self, took: Duration) {
        self.duration.record(took.as_secs_f64());
    }

    /// `batch` was written, in `took`.
    pub(crate) fn settled(&self, batch: &[Settlement], took: Option<Duration>) {
        if let Some(took) = took {
            self.settle.record(took.as_secs_f64());
        }
        for settlement in batch {
            match &settlement.outcome {
                Outcome::Completed { .. } => self.completed.increment(1),
                Outcome::Failed { retry_at, .. } => {
                    self.failed.increment(1);
                    if retry_at.is_none() {
                        self.dead.increment(1);
                    }
                }
                Outcome::Cancelled { .. } => self.cancelled.increment(1),
                _ => {}
            }
        }
    }

    /// A parent completed with `children` spawned, in one write.
    pub(crate) fn spawned(&self, children: usize) {
        self.completed.increment(1);
        self.spawn_operations.increment(1);
        self.spawned.increment(children as u64);
    }
}

/// `jobs` were rescued.
pub(crate) fn rescued(jobs: u64) {
    counter!(JOBS_RESCUED).increment(jobs);
}

/// Sets the `hammerwork_queue_jobs` and `hammerwork_queue_paused` gauges
/// from the database: one `queue_counts` read per queue that holds jobs or
/// is paused ([`DatabaseQueue::queue_overview`]).
pub async fn record_queue_depths(storage: &dyn Storage) -> hammerwork_api::Result<()> {
    for row in storage.queue_overview().await? {
        for status in JobStatus::ALL {
            gauge!(QUEUE_JOBS, "queue" => row.queue.clone(), "status" => status.as_str())
                .set(row.counts.get(status) as f64);
        }
        gauge!(QUEUE_PAUSED, "queue" => row.queue).set(if row.paused { 1.0 } else { 0.0 });
    }
    Ok(())
}

#[cfg(feature = "prometheus")]
pub use prometheus_exporter::{prometheus, serve_prometheus, PrometheusHandle};

#[cfg(feature = "prometheus")]
mod prometheus_exporter {
    use std::net::SocketAddr;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use hammerwork_api::{Error, Result, Storage};
    pub use metrics_exporter_prometheus::PrometheusHandle;
    use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusRecorder};

    /// The handle once installed; held while installing, so two first calls
    /// at once install one recorder.
    static INSTALLED: Mutex<Option<PrometheusHandle>> = Mutex::new(None);

    /// How often [`serve_prometheus`] refreshes the queue gauges.
    const DEPTH_REFRESH: Duration = Duration::from_secs(10);

    fn builder() -> Result<PrometheusBuilder> {
        let seconds = [
            0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            30.0, 60.0, 300.0,
        ];
        let sizes = [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0];
        PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &seconds)
            .and_then(|b| {
                b.set_buckets_for_metric(Matcher::Full(super::CLAIM_BATCH_SIZE.into()), &sizes)
            })
            .map_err(|err| Error::Config(format!("prometheus buckets: {err}")))
    }

    fn install(
        slot: &mut Option<PrometheusHandle>,
        recorder: PrometheusRecorder,
    ) -> Result<PrometheusHandle> {
        let handle = recorder.handle();
        ::metrics::set_global_recorder(recorder).map_err(|_| {
            Error::Config(
                "another metrics recorder is installed in this process: record into it, or \
                 install Hammerwork's before it"
                    .into(),
            )
        })?;
        *slot = Some(handle.clone());
        Ok(handle)
    }

    /// The process's Prometheus recorder, installed as the `metrics`
    /// recorder on the first call (later calls return the same handle).
    /// `handle.render()` is the text a scrape reads; `hammerwork-web` serves
    /// it at `/metrics`. Call it before starting workers.
    pub fn prometheus() -> Result<PrometheusHandle> {
        let mut slot = INSTALLED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(handle) = slot.as_ref() {
            return Ok(handle.clone());
        }
        install(&mut slot, builder()?.build_recorder())
    }

    /// Installs the Prometheus recorder and serves it at
    /// `http://{addr}/metrics` (any path answers), refreshing the queue
    /// gauges from `storage` every 10 s: a worker process's metrics in one
    /// call, without the web crate. Call it inside a Tokio runtime, before
    /// starting workers; fails if a recorder is already installed.
    pub fn serve_prometheus(
        storage: Arc<dyn Storage>,
        addr: SocketAddr,
    ) -> Result<PrometheusHandle> {
        let mut slot = INSTALLED.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_some() {
            return Err(Error::Config(
                "the Prometheus recorder is already installed: serve prometheus()'s handle \
                 from your own HTTP server"
                    .into(),
            ));
        }
        let (recorder, exporter) = builder()?
            .with_http_listener(addr)
            .build()
            .map_err(|err| Error::Config(format!("prometheus exporter on {addr}: {err}")))?;
        let handle = install(&mut slot, recorder)?;
        drop(slot);
        tokio::spawn(async move {
            if let Err(err) = exporter.await {
                tracing::error!(error = ?err, "the Prometheus exporter stopped");
            }
        });
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(DEPTH_REFRESH);
            loop {
                tick.tick().await;
                if let Err(err) = super::record_queue_depths(storage.as_ref()).await {
                    tracing::warn!(error = %err, "reading queue depths for metrics failed");
                }
            }
        });
        Ok(handle)
    }
}
