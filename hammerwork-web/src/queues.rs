//! Queues: counts per status, pause and resume.

use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};
use utoipa::openapi::Object;
use utoipa::ToSchema;

use crate::error::ApiResult;
use crate::guard::Action;
use crate::{AppState, NoFields};

/// The header of `GET /api/queues` that says when its counts were read.
pub(crate) const AS_OF: &str = "hammerwork-counts-as-of";

/// `GET /api/queues`: every queue that holds jobs or is paused, with its
/// counts per status, read at a bounded rate (see
/// `WebConfig::queues_max_age`); the `Hammerwork-Counts-As-Of` header says
/// when (RFC 3339).
#[utoipa::path(get, path = "/queues", tag = "queues",
    responses((status = 200, description = "queues with counts per status", body = Vec<Object>,
        headers(("hammerwork-counts-as-of" = String, description = "when the counts were read (RFC 3339)")))))]
pub(crate) async fn list(
    State(state): State<AppState>,
) -> ApiResult<([(&'static str, String); 1], Json<Value>)> {
    let snapshot = state.overview.get(&state.storage).await?;
    Ok((
        [(AS_OF, snapshot.as_of.to_rfc3339())],
        Json(json!(*snapshot.queues)),
    ))
}

/// Completed and failed per minute.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the JSON the handler builds
pub(crate) struct Throughput {
    /// When the server's first sample of the counts was taken (null before
    /// any): the history starts there, an hour at most.
    since: Option<String>,
    /// Oldest first: `{ "minute", "completed", "failed" }`.
    minutes: Vec<Object>,
}

/// `GET /api/queues/throughput`: jobs completed and failed (dead) per minute
/// over the last hour, summed over the queues, from the counts the server
/// has read since it first did (a sample every 30 s at least, from the first
/// request for counts on).
#[utoipa::path(get, path = "/queues/throughput", tag = "queues",
    responses((status = 200, description = "completed and failed per minute, oldest first", body = Throughput)))]
pub(crate) async fn throughput(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    // The counts, read if there are none yet: the first sample.
    state.overview.get(&state.storage).await?;
    let (since, minutes) = state.overview.throughput();
    Ok(Json(json!({ "since": since, "minutes": minutes })))
}

/// `POST /api/queues/{queue}/pause`: `{ "queue", "paused": true, "changed" }`
/// (`changed` is false when it was paused already).
#[utoipa::path(post, path = "/queues/{queue}/pause", request_body(content = Option<Object>, description = "empty or `{}`: actions take no fields (the request must still say Content-Type: application/json)"), tag = "queues", params(("queue" = String, Path, description = "the queue's name")),
    responses((status = 200, description = "paused", body = Object)))]
pub(crate) async fn pause(
    _: Action,
    State(state): State<AppState>,
    Path(queue): Path<String>,
    _body: NoFields,
) -> ApiResult<Json<Value>> {
    let changed = state.storage.pause_queue(&queue).await?;
    Ok(Json(
        json!({ "queue": queue, "paused": true, "changed": changed }),
    ))
}

/// `POST /api/queues/{queue}/resume`: `{ "queue", "paused": false, "changed" }`
/// (`changed` is false when it was not paused).
#[utoipa::path(post, path = "/queues/{queue}/resume", request_body(content = Option<Object>, description = "empty or `{}`: actions take no fields (the request must still say Content-Type: application/json)"), tag = "queues", params(("queue" = String, Path, description = "the queue's name")),
    responses((status = 200, description = "resumed", body = Object)))]
pub(crate) async fn resume(
    _: Action,
    State(state): State<AppState>,
    Path(queue): Path<String>,
    _body: NoFields,
) -> ApiResult<Json<Value>> {
    let changed = state.storage.resume_queue(&queue).await?;
    Ok(Json(
        json!({ "queue": queue, "paused": false, "changed": changed }),
    ))
}
