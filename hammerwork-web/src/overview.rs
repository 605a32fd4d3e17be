//! The queue overview (counts per queue and status) that `GET /api/queues`
//! answers and the events poll sends, read at a bounded rate.
//!
//! Counting reads every job of a queue, finished ones included: on a table
//! of a million jobs one count takes about 100 ms of database time, where
//! every other read of the API is an index lookup. So the overview is one
//! snapshot shared by every caller. It is read again when older than
//! [`WebConfig::queues_max_age`](crate::WebConfig::queues_max_age), but never
//! more often than once per twenty times the last read's duration (counting
//! takes at most about 5% of one connection's time, however large the table
//! and however many clients ask); until the new read lands, callers get the
//! previous snapshot at once. A state-changing request through the API drops
//! the snapshot, so the next caller reads its effect.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use chrono::{DateTime, Utc};
use hammerwork::{DatabaseQueue, QueueSummary, Storage};

/// How many times its last read's duration a snapshot is kept at least.
const COST_FACTOR: u32 = 20;

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
}

impl Overview {
    pub(crate) fn new(max_age: Duration) -> Self {
        Overview {
            latest: Mutex::new(None),
            reading: Arc::default(),
            generation: AtomicU64::new(0),
            max_age,
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
