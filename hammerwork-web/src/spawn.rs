//! The spawning guide's endpoints, exactly as its `curl` lines and
//! JavaScript `SpawnManager` client use them.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::Json;
use chrono::Utc;
use hammerwork::spawn::SpawnQuery;
use hammerwork::DatabaseQueue;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::IntoParams;

use crate::error::{ApiError, ApiResult};
use crate::{job_id, AppState};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct OperationsQuery {
    /// At most this many (cut to the server's page size).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4294967295_i64)]
    limit: Option<u32>,
    /// Only operations of parents in this queue.
    queue: Option<String>,
}

/// `GET /api/spawn/operations?limit=&queue=`: spawn operations, newest first.
#[utoipa::path(get, path = "/spawn/operations", tag = "spawn", params(OperationsQuery),
    responses((status = 200, description = "spawn operations, newest first", body = Vec<Object>)))]
pub(crate) async fn operations(
    State(state): State<AppState>,
    query: Result<Query<OperationsQuery>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(q) = query?;
    let mut spawn_query = SpawnQuery::new().limit(state.page(q.limit, 50));
    if let Some(queue) = q.queue {
        spawn_query = spawn_query.queue(queue);
    }
    let operations = state.storage.list_spawn_operations(spawn_query).await?;
    Ok(Json(json!(operations)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct StatsQuery {
    /// Only this queue's parents.
    queue: Option<String>,
    /// The window, in hours back from now (24 by default).
    #[param(minimum = 1, maximum = 87600)]
    hours: Option<u32>,
}

/// `GET /api/spawn/stats?queue=&hours=`: operations, children and dead
/// children over the last `hours` (24 by default, at most ten years).
#[utoipa::path(get, path = "/spawn/stats", tag = "spawn", params(StatsQuery),
    responses((status = 200, description = "operations, children and dead children in the window", body = Object)))]
pub(crate) async fn stats(
    State(state): State<AppState>,
    query: Result<Query<StatsQuery>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(q) = query?;
    let hours = q.hours.unwrap_or(24);
    if !(1..=87_600).contains(&hours) {
        return Err(ApiError::bad_request("hours must be 1 to 87600"));
    }
    let now = Utc::now();
    let mut spawn_query = SpawnQuery::new().between(
        now - chrono::Duration::hours(i64::from(hours)),
        now + chrono::Duration::seconds(1),
    );
    if let Some(queue) = &q.queue {
        spawn_query = spawn_query.queue(queue);
    }
    let stats = state.storage.spawn_stats(spawn_query).await?;
    Ok(Json(json!({
        "queue": q.queue,
        "hours": hours,
        "operations": stats.operations,
        "children": stats.children,
        "failed_children": stats.failed_children,
        "mean_children_per_operation": stats.mean_children_per_operation(),
    })))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct TreeQuery {
    /// json (default), mermaid or text.
    #[param(pattern = "^(json|mermaid|text)$")]
    format: Option<String>,
    /// How many generations below the job (10 by default).
    #[param(minimum = 1, maximum = 1000)]
    max_depth: Option<u32>,
}

/// `GET /api/jobs/{id}/spawn-tree?format=json|mermaid|text&max_depth=`: the
/// tree as JSON, or `{ "job_id", "format", "content" }` for Mermaid and text
/// (the guide's client reads every answer as JSON).
#[utoipa::path(get, path = "/jobs/{id}/spawn-tree", tag = "spawn", params(("id" = String, Path, format = Uuid, description = "the job's id (a UUID)"), TreeQuery),
    responses((status = 200, description = "the tree as JSON, or the Mermaid / text form wrapped in JSON", body = Object)))]
pub(crate) async fn tree(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Result<Query<TreeQuery>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let id = job_id(&id)?;
    let Query(q) = query?;
    let depth = q.max_depth.unwrap_or(10);
    if !(1..=1_000).contains(&depth) {
        return Err(ApiError::bad_request("max_depth must be 1 to 1000"));
    }
    let tree = state.storage.get_spawn_tree(id, depth).await?;
    let format = q.format.as_deref().unwrap_or("json");
    let content = match format {
        "json" => return Ok(Json(tree.to_json())),
        "mermaid" => tree.to_mermaid(),
        "text" => tree.to_text(),
        other => {
            return Err(ApiError::bad_request(format!(
                "format {other:?}: use json, mermaid or text"
            )))
        }
    };
    Ok(Json(
        json!({ "job_id": id, "format": format, "content": content }),
    ))
}

/// `GET /api/jobs/{id}/children`: the jobs it spawned.
#[utoipa::path(get, path = "/jobs/{id}/children", tag = "spawn", params(("id" = String, Path, format = Uuid, description = "the job's id (a UUID)")),
    responses((status = 200, description = "the jobs it spawned", body = Vec<Object>)))]
pub(crate) async fn children(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = job_id(&id)?;
    if state.storage.get_job(id).await?.is_none() {
        return Err(ApiError::not_found(format!("no job {id}")));
    }
    Ok(Json(json!(state.storage.get_children(id).await?)))
}
