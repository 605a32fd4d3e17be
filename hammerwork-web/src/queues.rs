//! Queues: counts per status, pause and resume.

use axum::extract::{Path, State};
use axum::Json;
use hammerwork::DatabaseQueue;
use serde_json::{json, Value};

use crate::error::ApiResult;
use crate::AppState;

/// `GET /api/queues`: every queue that holds jobs or is paused, with its
/// counts per status.
pub(crate) async fn list(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    Ok(Json(json!(state.storage.queue_overview().await?)))
}

/// `POST /api/queues/{queue}/pause`: `{ "queue", "paused": true, "changed" }`
/// (`changed` is false when it was paused already).
pub(crate) async fn pause(
    State(state): State<AppState>,
    Path(queue): Path<String>,
) -> ApiResult<Json<Value>> {
    let changed = state.storage.pause_queue(&queue).await?;
    Ok(Json(
        json!({ "queue": queue, "paused": true, "changed": changed }),
    ))
}

/// `POST /api/queues/{queue}/resume`: `{ "queue", "paused": false, "changed" }`
/// (`changed` is false when it was not paused).
pub(crate) async fn resume(
    State(state): State<AppState>,
    Path(queue): Path<String>,
) -> ApiResult<Json<Value>> {
    let changed = state.storage.resume_queue(&queue).await?;
    Ok(Json(
        json!({ "queue": queue, "paused": false, "changed": changed }),
    ))
}
