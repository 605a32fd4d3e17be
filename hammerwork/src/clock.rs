//! The time a worker works by: its own clock corrected to the database's, so
//! leases, readiness and rescue are judged the same by every worker however
//! far their hosts' clocks drift.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use hammerwork_api::{Result, Storage};

/// Longest round trip a clock reading may take to be used.
const MAX_ROUND_TRIP: chrono::Duration = chrono::Duration::milliseconds(500);

/// A source of the current time (the system clock unless a test says
/// otherwise).
pub(crate) type LocalClock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// A local clock plus the offset to the database's clock, measured by
/// [`sync`](Self::sync). Clones share the offset.
#[derive(Clone)]
pub(crate) struct Clock {
    local: LocalClock,
    offset_micros: Arc<AtomicI64>,
}

impl Clock {
    /// `local`, uncorrected until the first [`sync`](Self::sync).
    pub(crate) fn new(local: LocalClock) -> Self {
        Clock {
            local,
            offset_micros: Arc::default(),
        }
    }

    /// The database's time, as of the last sync.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        let offset = self.offset_micros.load(Ordering::Relaxed);
        (self.local)() + chrono::Duration::microseconds(offset)
    }

    /// Measures the offset to `storage`'s clock: the database's time minus
    /// the local time halfway through the round trip, from the quickest of
    /// three reads (a read that waited for a connection is skewed by half the
    /// wait). When even the quickest took longer than [`MAX_ROUND_TRIP`], the
    /// previous offset stays.
    pub(crate) async fn sync<S: Storage>(&self, storage: &S) -> Result<()> {
        let mut best: Option<(chrono::Duration, i64)> = None;
        for _ in 0..3 {
            let before = (self.local)();
            let database = storage.database_time().await?;
            let after = (self.local)();
            let round_trip = after - before;
            let offset = (database - (before + round_trip / 2))
                .num_microseconds()
                .unwrap_or(0);
            if best.is_none_or(|(quickest, _)| round_trip < quickest) {
                best = Some((round_trip, offset));
            }
        }
        match best {
            Some((round_trip, offset)) if round_trip <= MAX_ROUND_TRIP => {
                self.offset_micros.store(offset, Ordering::Relaxed);
            }
            _ => tracing::debug!("reading the database's clock took too long; offset kept"),
        }
        Ok(())
    }
}
