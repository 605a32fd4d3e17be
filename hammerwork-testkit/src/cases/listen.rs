use hammerwork_api::{DatabaseQueue, Job, Storage, WakeupScope};
use serde_json::json;

use crate::support::WAIT_LIMIT;

/// A backend that declares wakeups delivers one, naming the queue, when a job
/// is enqueued through it; one that declares none returns no listener.
pub async fn listen_wakes_on_enqueue<S: Storage>(storage: S) {
    let listener = storage.listen().await.expect("listen");
    let Some(mut listener) = listener else {
        assert_eq!(
            storage.capabilities().wakeups,
            WakeupScope::None,
            "the backend declares wakeups but listen() returned no listener"
        );
        return;
    };
    assert_ne!(storage.capabilities().wakeups, WakeupScope::None);
    storage
        .enqueue(Job::new("wake_me", json!({})))
        .await
        .unwrap();
    let woke = tokio::time::timeout(WAIT_LIMIT, async {
        loop {
            match listener.recv().await {
                Some(queue) if queue == "wake_me" => return true,
                Some(_) => continue,
                None => return false,
            }
        }
    })
    .await;
    assert_eq!(
        woke,
        Ok(true),
        "no wakeup for queue wake_me after an enqueue"
    );
}
