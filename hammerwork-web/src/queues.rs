//! Queues: counts per status, pause and resume.

use axum::extract::{Path, State};
use axum::Json;
use hammerwork::DatabaseQueue;
use serde_json::{json, Value};

use crate::error::ApiResult;
use crate::guard::Action;
use crate::{AppState, NoFields};

/// `GET /api/queues`: every queue that holds jobs or is paused, with its
/// counts per status.
#[utoipa::path(get, path = "/queues", tag = "queues",
    responses((status = 200, description = "queues with counts per status", body = Vec<Object>)))]
pub(crate) async fn list(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    Ok(Json(json!(state.storage.queue_overview().await?)))
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
