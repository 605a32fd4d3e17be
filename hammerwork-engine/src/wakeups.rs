//! In-process wakeups, for drivers whose database cannot push them.

use async_trait::async_trait;
use hammerwork_api::WakeupListener;
use tokio::sync::broadcast;

/// Wakeups buffered per listener; one that falls further behind is told
/// "any queue" instead.
const CAPACITY: usize = 1_024;

/// Queue names that just got claimable jobs, broadcast to this process's
/// listeners. Cheap to clone; clones share one channel. Workers of other
/// processes find the jobs by polling
/// ([`WakeupScope::Process`](hammerwork_api::WakeupScope::Process)).
#[derive(Clone, Debug)]
pub struct LocalWakeups {
    sender: broadcast::Sender<String>,
}

impl Default for LocalWakeups {
    fn default() -> Self {
        LocalWakeups {
            sender: broadcast::channel(CAPACITY).0,
        }
    }
}

impl LocalWakeups {
    /// Wakes the listeners of `queues`.
    pub fn wake(&self, queues: impl IntoIterator<Item = String>) {
        for queue in queues {
            // An error only means nobody is listening right now.
            let _ = self.sender.send(queue);
        }
    }

    /// A new listener.
    pub fn listen(&self) -> Box<dyn WakeupListener> {
        Box::new(Listener(self.sender.subscribe()))
    }
}

struct Listener(broadcast::Receiver<String>);

#[async_trait]
impl WakeupListener for Listener {
    async fn recv(&mut self) -> Option<String> {
        match self.0.recv().await {
            Ok(queue) => Some(queue),
            // Wakeups were dropped while this listener lagged: "" means "any queue".
            Err(broadcast::error::RecvError::Lagged(_)) => Some(String::new()),
            // Every sender (every clone of the storage) is gone.
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }
}
