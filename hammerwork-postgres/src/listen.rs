//! Wakeups over LISTEN/NOTIFY: one listening connection per storage, outside
//! the pool (a pool of five must serve forty workers' claims, not hold five
//! LISTENs), relayed in-process to every worker that subscribes. It
//! reconnects after a database restart and then wakes every queue, as
//! notifications may have been missed meanwhile.

use std::sync::{Arc, Weak};
use std::time::Duration;

use hammerwork_api::{Result, WakeupListener};
use hammerwork_engine::LocalWakeups;
use sqlx::postgres::{PgListener, PgPoolOptions};
use sqlx::PgPool;
use tokio::sync::OnceCell;

use crate::map_err::map_err;

/// How long the relay waits for a notification before it checks whether its
/// storage is still there.
const CHECK_EVERY: Duration = Duration::from_secs(30);

/// The storage's one LISTEN connection, started by the first subscriber.
#[derive(Debug)]
pub(crate) struct Listen {
    pool: PgPool,
    channel: Arc<str>,
    relay: OnceCell<LocalWakeups>,
}

impl Listen {
    pub(crate) fn new(pool: PgPool, channel: Arc<str>) -> Arc<Self> {
        let relay = OnceCell::new();
        Arc::new(Listen {
            pool,
            channel,
            relay,
        })
    }

    /// A new subscription, starting the LISTEN connection if it is not yet.
    pub(crate) async fn subscribe(self: &Arc<Self>) -> Result<Box<dyn WakeupListener>> {
        let relay = self.relay.get_or_try_init(|| self.start()).await?;
        Ok(relay.listen())
    }

    async fn start(self: &Arc<Self>) -> Result<LocalWakeups> {
        // A pool of its own, of one connection (through which PgListener
        // reconnects), with the storage's connect options.
        let options = (*self.pool.connect_options()).clone();
        let own = PgPoolOptions::new()
            .max_connections(1)
            .max_lifetime(None)
            .idle_timeout(None)
            .connect_lazy_with(options);
        let mut listener = PgListener::connect_with(&own).await.map_err(map_err)?;
        listener.listen(&self.channel).await.map_err(map_err)?;
        let relay = LocalWakeups::default();
        tokio::spawn(relay_loop(listener, relay.clone(), Arc::downgrade(self)));
        Ok(relay)
    }
}

/// Relays each notification (its payload is a queue name) until the storage
/// is dropped.
async fn relay_loop(mut listener: PgListener, relay: LocalWakeups, storage: Weak<Listen>) {
    while storage.strong_count() > 0 {
        match tokio::time::timeout(CHECK_EVERY, listener.try_recv()).await {
            Err(_) => {}
            Ok(Ok(Some(notification))) => relay.wake([notification.payload().to_string()]),
            // The connection dropped and is back: "" wakes every queue.
            Ok(Ok(None)) => relay.wake([String::new()]),
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "hammerwork LISTEN connection failed; reconnecting");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}
