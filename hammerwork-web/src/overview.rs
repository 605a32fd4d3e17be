//! The queue overview (counts per queue and status) that `GET /api/queues`
//! answers and the events poll sends, read at a bounded rate.
//!
//! Counting reads every job of a queue, finished ones included: on a table
//! of a million jobs one count takes a few hundred ms of database time, where
//! every other read of the API is an index lookup. So the overview is one
//! snapshot shared by every caller. It is read again when older than
//! [`WebConfig::queues_max_age`](crate::WebConfig::queues_max_age), but never
//! more often than once per twenty times the last read's duration (counting
//! takes at most about 5% of one connection's time, however large the table
//! and however many clients ask); until the new read lands, callers get the
//! previous snapshot at once. A state-changing request through the API drops
//! the snapshot, so the next caller reads its effect.
//!
//! Each read also adds a sample of the finished totals (completed and dead,
//! summed over the queues) to an hour of history, from which
//! `GET /api/queues/throughput` answers completed and failed per minute.
//! From the first time anyone asks for counts, a sampler keeps that history
//! going (one read every [`SAMPLE_EVERY`] at most) while the server runs.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use chrono::{DateTime, DurationRound, Utc};
use hammerwork::{DatabaseQueue, QueueSummary, Storage};

/// How many times its last read's duration a snapshot is kept at least.
const COST_FACTOR: u32 = 20;

/// How often the sampler asks for the counts.
pub(crate) const SAMPLE_EVERY: Duration = Duration::from_secs(30);

/// Samples closer together than this are merged (the later one kept).
const SAMPLE_SPACING: chrono::TimeDelta = chrono::TimeDelta::seconds(10);

/// How much history is kept.
const HISTORY: chrono::TimeDelta = chrono::TimeDelta::minutes(61);

/// The finished totals at one read.
#[derive(Debug, Clone, Copy)]
struct Sample {
    at: DateTime<Utc>,
    completed: u64,
    dead: u64,
}

/// Completed and failed (dead) jobs in one minute.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Minute {
    /// The minute's start.
    pub(crate) minute: DateTime<Utc>,
    /// Jobs that completed in it.
    pub(crate) completed: u64,
    /// Jobs that failed for good (dead) in it.
    pub(crate) failed: u64,
}

/// One read of the overview.
#[derive(Clone)]
pub(crate) struct Snapshot {
    /// Every queue with its counts.
    pub(crate) queues: Arc<Vec<QueueSummary>>,
    /// When the read began, by this server's clock.
    pub(crate) as_of: DateTime<Utc>,
    began: Instant,
    cost: Duration,
}

impl Snapshot {
    fn fresh(&self, max_age: Duration) -> bool {
        self.began.elapsed() < max_age.max(self.cost * COST_FACTOR)
    }
}

/// The shared snapshot and the one read in flight.
pub(crate) struct Overview {
    latest: Mutex<Option<Snapshot>>,
    /// Held by the read in flight.
    reading: Arc<tokio::sync::Mutex<()>>,
    /// Bumped when a change through the API makes the snapshot wrong; a read
    /// begun before is not kept.
    generation: AtomicU64,
    max_age: Duration,
    /// The finished totals of the last hour's reads, oldest first.
    history: Mutex<VecDeque<Sample>>,
    /// Whether the sampler runs.
    sampling: AtomicBool,
}

impl Overview {
    pub(crate) fn new(max_age: Duration) -> Self {
        Overview {
            latest: Mutex::new(None),
            reading: Arc::default(),
            generation: AtomicU64::new(0),
            max_age,
            history: Mutex::default(),
            sampling: AtomicBool::new(false),
        }
    }

    /// Starts the sampler unless it runs: every [`SAMPLE_EVERY`] it asks for
    /// the counts (read again only if the snapshot is stale), until the
    /// router is dropped.
    fn keep_sampling(self: &Arc<Self>, storage: &Arc<dyn Storage>) {
        if self.sampling.load(Ordering::Relaxed) || self.sampling.swap(true, Ordering::SeqCst) {
            return;
        }
        let (this, storage): (Weak<Self>, _) = (Arc::downgrade(self), storage.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(SAMPLE_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(overview) = this.upgrade() else {
                    return;
                };
                if let Err(err) = overview.get(&storage).await {
                    tracing::warn!(error = %err, "sampling the queue counts failed");
                }
            }
        });
    }

    /// Completed and failed per minute over the last hour of samples, oldest
    /// first, and when the first sample was taken. A minute between two
    /// samples further apart than a minute gets their whole difference at
    /// the later one; a total that went down (finished jobs pruned) counts
    /// as nothing.
    pub(crate) fn throughput(&self) -> (Option<DateTime<Utc>>, Vec<Minute>) {
        let history = self
            .history
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut minutes: Vec<Minute> = Vec::new();
        for (a, b) in history.iter().zip(history.iter().skip(1)) {
            let minute =
                b.at.duration_trunc(chrono::TimeDelta::minutes(1))
                    .unwrap_or(b.at);
            let (completed, failed) = (
                b.completed.saturating_sub(a.completed),
                b.dead.saturating_sub(a.dead),
            );
            match minutes.last_mut() {
                Some(last) if last.minute == minute => {
                    last.completed += completed;
                    last.failed += failed;
                }
                _ => minutes.push(Minute {
                    minute,
                    completed,
                    failed,
                }),
            }
        }
        (history.front().map(|s| s.at), minutes)
    }

    fn record(&self, snapshot: &Snapshot) {
        let (mut completed, mut dead) = (0, 0);
        for queue in snapshot.queues.iter() {
            completed += queue.counts.completed;
            dead += queue.counts.dead;
        }
        let sample = Sample {
            at: snapshot.as_of,
            completed,
            dead,
        };
        let mut history = self
            .history
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if history.back().is_some_and(|last| last.at >= sample.at) {
            return;
        }
        let len = history.len();
        if len >= 2 && history[len - 1].at - history[len - 2].at < SAMPLE_SPACING {
            history[len - 1] = sample;
        } else {
            history.push_back(sample);
        }
        while history
            .front()
            .is_some_and(|first| sample.at - first.at > HISTORY)
        {
            history.pop_front();
        }
    }

    fn latest(&self) -> Option<Snapshot> {
        self.latest
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Forgets the snapshot: the next caller waits for a new read.
    pub(crate) fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        *self
            .latest
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
    }

    /// The snapshot: the current one, the previous one while a new read is
    /// under way, or (when there is none) the result of a read this call
    /// waits for, shared with every concurrent caller.
    pub(crate) async fn get(
        self: &Arc<Self>,
        storage: &Arc<dyn Storage>,
    ) -> hammerwork::Result<Snapshot> {
        self.keep_sampling(storage);
        if let Some(snapshot) = self.latest() {
            if !snapshot.fresh(self.max_age) {
                if let Ok(guard) = self.reading.clone().try_lock_owned() {
                    let (this, storage) = (self.clone(), storage.clone());
                    tokio::spawn(async move {
                        if let Err(err) = this.read(&storage).await {
                            tracing::warn!(error = %err, "reading the queue overview failed");
                        }
                        drop(guard);
                    });
                }
            }
            return Ok(snapshot);
        }
        let _guard = self.reading.lock().await;
        if let Some(snapshot) = self.latest() {
            return Ok(snapshot);
        }
        self.read(storage).await
    }

    /// Reads the overview and keeps it unless a change came in meanwhile.
    async fn read(&self, storage: &Arc<dyn Storage>) -> hammerwork::Result<Snapshot> {
        let generation = self.generation.load(Ordering::SeqCst);
        let (began, as_of) = (Instant::now(), Utc::now());
        let queues = storage.queue_overview().await?;
        let snapshot = Snapshot {
            queues: Arc::new(queues),
            as_of,
            began,
            cost: began.elapsed(),
        };
        let mut latest = self
            .latest
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if self.generation.load(Ordering::SeqCst) == generation {
            *latest = Some(snapshot.clone());
        }
        drop(latest);
        self.record(&snapshot);
        Ok(snapshot)
    }
}

/// Middleware: after a request that may change something (any method but
/// GET, HEAD and OPTIONS), forgets the snapshot.
pub(crate) async fn forget_after_change(
    State(overview): State<Arc<Overview>>,
    request: Request,
    next: Next,
) -> Response {
    let changes = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let response = next.run(request).await;
    if changes {
        overview.invalidate();
    }
    response
}
