//! `GET /api/events`: Server-Sent Events of what changes in the database,
//! found by one poll shared by every client of the router.
//!
//! Each poll (every [`WebConfig::events_interval`](crate::WebConfig), 2 s by
//! default, and only while a client listens) reads each queue's counts and
//! paused state, each queue's running jobs (at most 200 a queue), the jobs
//! that were running at the previous poll and are not any more (one read by
//! id), and the workflows those jobs belong to. From them it sends:
//!
//! - `queues`: every queue's counts, when any changed (and at once to a new
//!   client);
//! - `job`: a job seen running, and what it became at the next poll
//!   (`completed`, `retrying`, `dead`, ...). Jobs that start and end between
//!   two polls show only in the counts;
//! - `workflow`: the status and progress of a workflow one of those jobs
//!   belongs to, when it changed, until it finished.
//!
//! Each client has a buffer of [`CLIENT_BUFFER`] events; a client that falls
//! that far behind is disconnected (it can reconnect), so a slow reader never
//! holds up the poll or the other clients.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::stream::{self, Stream, StreamExt};
use hammerwork::{Job, JobId, JobStatus, ListJobsParams, Storage, WorkflowId, WorkflowStatus};
use serde_json::{json, Value};
use tokio::sync::broadcast;

use crate::overview::Overview;
use crate::AppState;

/// Events a client may fall behind by before it is disconnected.
pub(crate) const CLIENT_BUFFER: usize = 256;

/// Running jobs read per queue and poll.
const RUNNING_PER_QUEUE: u32 = 200;

/// One event, serialised once for every client.
#[derive(Debug, Clone)]
struct Message {
    kind: &'static str,
    data: Arc<str>,
}

/// The poll and its listeners, one per router.
pub(crate) struct EventHub {
    tx: broadcast::Sender<Message>,
    state: Mutex<HubState>,
}

#[derive(Default)]
struct HubState {
    polling: bool,
    /// The last `queues` event, for new clients.
    queues: Option<Message>,
}

impl EventHub {
    pub(crate) fn new() -> Self {
        EventHub {
            tx: broadcast::channel(CLIENT_BUFFER).0,
            state: Mutex::new(HubState::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HubState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new client: its receiver and the snapshot to send first; starts the
    /// poll if none runs.
    fn subscribe(
        self: &Arc<Self>,
        storage: Arc<dyn Storage>,
        overview: Arc<Overview>,
        interval: Duration,
    ) -> (broadcast::Receiver<Message>, Option<Message>) {
        let mut state = self.lock();
        let rx = self.tx.subscribe();
        if !state.polling {
            state.polling = true;
            state.queues = None;
            tokio::spawn(poll(self.clone(), storage, overview, interval));
        }
        (rx, state.queues.clone())
    }
}

/// What the poll remembers between two rounds.
#[derive(Default)]
struct Seen {
    queues: Option<Arc<str>>,
    running: BTreeMap<JobId, String>,
    workflows: HashMap<WorkflowId, Value>,
}

/// Polls while anyone listens.
async fn poll(
    hub: Arc<EventHub>,
    storage: Arc<dyn Storage>,
    overview: Arc<Overview>,
    interval: Duration,
) {
    let mut seen = Seen::default();
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        {
            let mut state = hub.lock();
            if hub.tx.receiver_count() == 0 {
                state.polling = false;
                return;
            }
        }
        match round(&storage, &overview, &mut seen).await {
            Ok(messages) => {
                for message in messages {
                    if message.kind == "queues" {
                        hub.lock().queues = Some(message.clone());
                    }
                    // No receiver left: the next tick ends the poll.
                    let _ = hub.tx.send(message);
                }
            }
            Err(err) => tracing::warn!(error = %err, "polling for events failed"),
        }
    }
}

fn message(kind: &'static str, data: &Value) -> Message {
    Message {
        kind,
        data: data.to_string().into(),
    }
}

fn job_event(job: &Job) -> Value {
    json!({
        "id": job.id,
        "queue": job.queue_name,
        "status": job.status,
        "attempts": job.attempts,
        "workflow_id": job.workflow_id,
        "error": job.error_message,
    })
}

/// One poll: what changed since `seen`.
async fn round(
    storage: &Arc<dyn Storage>,
    overview: &Arc<Overview>,
    seen: &mut Seen,
) -> hammerwork::Result<Vec<Message>> {
    let mut out = Vec::new();
    let queues = overview.get(storage).await?.queues;
    let text: Arc<str> = serde_json::to_string(&*queues)
        .expect("queue summaries serialise")
        .into();
    if seen.queues.as_ref() != Some(&text) {
        out.push(Message {
            kind: "queues",
            data: text.clone(),
        });
        seen.queues = Some(text);
    }

    let mut running = BTreeMap::new();
    let mut touched = BTreeSet::new();
    for queue in queues.iter() {
        if queue.counts.running == 0 {
            continue;
        }
        let params = ListJobsParams::new()
            .queue(queue.queue.clone())
            .status(JobStatus::Running)
            .limit(RUNNING_PER_QUEUE);
        for job in storage.list_jobs(params).await? {
            if !seen.running.contains_key(&job.id) {
                out.push(message("job", &job_event(&job)));
            }
            touched.extend(job.workflow_id);
            running.insert(job.id, job.queue_name.clone());
        }
    }
    let left: Vec<JobId> = seen
        .running
        .keys()
        .filter(|id| !running.contains_key(id))
        .copied()
        .collect();
    if !left.is_empty() {
        for job in storage.get_jobs(&left).await? {
            // Claimed again since: still running, under a new attempt.
            if job.status != JobStatus::Running {
                out.push(message("job", &job_event(&job)));
            }
            touched.extend(job.workflow_id);
        }
    }
    seen.running = running;

    touched.extend(seen.workflows.keys().copied());
    for id in touched {
        let Some(workflow) = storage.get_workflow(id).await? else {
            seen.workflows.remove(&id);
            continue;
        };
        let summary = workflow.summary();
        if seen.workflows.get(&id) != Some(&summary) {
            out.push(message("workflow", &summary));
        }
        let status = workflow.status();
        if matches!(
            status,
            WorkflowStatus::Completed | WorkflowStatus::Failed | WorkflowStatus::Cancelled
        ) {
            seen.workflows.remove(&id);
        } else {
            seen.workflows.insert(id, summary);
        }
    }
    Ok(out)
}

/// `GET /api/events`: the stream. Starts with the current `queues`.
#[utoipa::path(get, path = "/events", tag = "events",
    responses((status = 200, description = "Server-Sent Events: queues, job, workflow", content_type = "text/event-stream", body = String)))]
pub(crate) async fn stream(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let (rx, first) = state.events.subscribe(
        state.storage.clone(),
        state.overview.clone(),
        state.config.events_interval,
    );
    Sse::new(client_stream(rx, first).map(|m| Ok(to_event(&m))))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

/// `first`, then what the poll sends, until the client is more than
/// [`CLIENT_BUFFER`] events behind (or the poll is gone): then the stream
/// ends, and the client reconnects to a fresh snapshot.
fn client_stream(
    rx: broadcast::Receiver<Message>,
    first: Option<Message>,
) -> impl Stream<Item = Message> {
    let rest = stream::unfold(rx, |mut rx| async move {
        match rx.recv().await {
            Ok(m) => Some((m, rx)),
            Err(broadcast::error::RecvError::Lagged(_) | broadcast::error::RecvError::Closed) => {
                None
            }
        }
    });
    stream::iter(first).chain(rest)
}

fn to_event(message: &Message) -> Event {
    Event::default().event(message.kind).data(&*message.data)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client that stopped reading loses its stream once it is a buffer
    /// behind; sending never waits for it, and a reading client keeps up.
    #[tokio::test]
    async fn a_slow_client_is_dropped_not_waited_for() {
        let hub = EventHub::new();
        let slow = client_stream(hub.tx.subscribe(), None);
        let mut live = Box::pin(client_stream(hub.tx.subscribe(), None));
        for i in 0..CLIENT_BUFFER * 4 {
            hub.tx.send(message("job", &json!({ "n": i }))).unwrap();
            let got = live.next().await.unwrap();
            assert_eq!(&*got.data, json!({ "n": i }).to_string());
        }
        let delivered: Vec<Message> = slow.collect().await;
        assert!(delivered.is_empty(), "{} delivered", delivered.len());
    }
}
