//! Workflows: list, show, stats, graph, create from a workflow file, cancel,
//! retry.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use hammerwork::workflow::{name_jobs, to_dot, to_json, to_mermaid, Workflow, WorkflowFile};
use hammerwork::{DatabaseQueue, ListWorkflowsParams, WorkflowId};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::IntoParams;

use crate::error::{ApiError, ApiResult};
use crate::guard::Action;
use crate::{workflow_id, AppState, NoFields};

async fn get(state: &AppState, id: WorkflowId) -> ApiResult<Workflow> {
    state
        .storage
        .get_workflow(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no workflow {id}")))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// Only workflows after this id (the previous page's `next_after`).
    #[param(format = Uuid)]
    after: Option<String>,
    /// At most this many (50 by default; cut to the server's page size).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4294967295_i64)]
    limit: Option<u32>,
}

/// `GET /api/workflows?after=&limit=`: `{ "workflows": [...], "next_after" }`
/// in creation order.
#[utoipa::path(get, path = "/workflows", tag = "workflows", params(ListQuery),
    responses((status = 200, description = "a page of workflows in creation order", body = Object)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(q) = query?;
    let limit = state.page(q.limit, 50);
    let mut params = ListWorkflowsParams::new().limit(limit);
    if let Some(after) = &q.after {
        params = params.after(workflow_id(after)?);
    }
    let workflows = state.storage.list_workflows(params).await?;
    let next = (workflows.len() == limit as usize)
        .then(|| workflows.last().map(|w| w.id))
        .flatten();
    let workflows: Vec<Value> = workflows.iter().map(Workflow::summary).collect();
    Ok(Json(json!({ "workflows": workflows, "next_after": next })))
}

/// `GET /api/workflows/{id}`: the workflow (its jobs: `/api/jobs?workflow=`).
#[utoipa::path(get, path = "/workflows/{id}", tag = "workflows", params(("id" = String, Path, format = Uuid, description = "the workflow's id (a UUID)")),
    responses((status = 200, description = "the workflow with status and progress", body = Object)))]
pub(crate) async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let w = get(&state, workflow_id(&id)?).await?;
    Ok(Json(w.summary()))
}

/// `GET /api/workflows/{id}/stats`: its counts and progress.
#[utoipa::path(get, path = "/workflows/{id}/stats", tag = "workflows", params(("id" = String, Path, format = Uuid, description = "the workflow's id (a UUID)")),
    responses((status = 200, description = "counts and progress", body = Object)))]
pub(crate) async fn stats(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let w = get(&state, workflow_id(&id)?).await?;
    Ok(Json(json!({
        "id": w.id,
        "status": w.status(),
        "stats": w.stats,
        "completion_percentage": w.stats.completion_percentage(),
    })))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct GraphQuery {
    /// json (default), dot or mermaid.
    #[param(pattern = "^(json|dot|mermaid)$")]
    format: Option<String>,
}

/// `GET /api/workflows/{id}/graph?format=json|dot|mermaid`: nodes and edges
/// as JSON, or `{ "workflow_id", "format", "content" }` for DOT and Mermaid.
#[utoipa::path(get, path = "/workflows/{id}/graph", tag = "workflows", params(("id" = String, Path, format = Uuid, description = "the workflow's id"), GraphQuery),
    responses((status = 200, description = "nodes and edges, or the DOT / Mermaid text wrapped in JSON", body = Object)))]
pub(crate) async fn graph(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Result<Query<GraphQuery>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let id = workflow_id(&id)?;
    let Query(q) = query?;
    get(&state, id).await?;
    let jobs = state.storage.get_workflow_jobs(id).await?;
    let format = q.format.as_deref().unwrap_or("json");
    let content = match format {
        "json" => return Ok(Json(to_json(&jobs))),
        "dot" => to_dot(&jobs),
        "mermaid" => to_mermaid(&jobs),
        other => {
            return Err(ApiError::bad_request(format!(
                "format {other:?}: use json, dot or mermaid"
            )))
        }
    };
    Ok(Json(
        json!({ "workflow_id": id, "format": format, "content": content }),
    ))
}

/// `POST /api/workflows` with a workflow file (the command line's format, as
/// JSON): 201 `{ "id", "jobs": { name: id } }`; 422 naming the problem (a
/// cycle, an unknown `depends_on` name, ...) with nothing written.
#[utoipa::path(post, path = "/workflows", tag = "workflows",
    request_body(content = crate::openapi::WorkflowFileDoc, description = "a workflow file, as `cargo hammerwork workflow create` takes"),
    responses((status = 201, description = "enqueued: its id and each job's id by name", body = Object)))]
pub(crate) async fn create(
    _: Action,
    State(state): State<AppState>,
    body: Result<Json<WorkflowFile>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let Json(file) = body?;
    let loaded = file.build()?;
    let names = loaded.names.clone();
    let id = state
        .storage
        .enqueue_workflow(loaded.group)
        .await
        .map_err(|err| {
            let mut answer = ApiError::from(err);
            if answer.status() == StatusCode::UNPROCESSABLE_ENTITY {
                let message = name_jobs(answer.message(), &names);
                answer = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message);
            }
            answer
        })?;
    let jobs: serde_json::Map<String, Value> = names
        .iter()
        .map(|(job, name)| (name.clone(), json!(job)))
        .collect();
    Ok((StatusCode::CREATED, Json(json!({ "id": id, "jobs": jobs }))))
}

/// `POST /api/workflows/{id}/cancel`: 200 `{ "id", "cancelled": true }`, 409
/// when it had already finished.
#[utoipa::path(post, path = "/workflows/{id}/cancel", request_body(content = Option<Object>, description = "empty or `{}`: actions take no fields (the request must still say Content-Type: application/json)"), tag = "workflows", params(("id" = String, Path, format = Uuid, description = "the workflow's id (a UUID)")),
    responses((status = 200, description = "cancelled", body = Object)))]
pub(crate) async fn cancel(
    _: Action,
    State(state): State<AppState>,
    Path(id): Path<String>,
    _body: NoFields,
) -> ApiResult<Json<Value>> {
    let id = workflow_id(&id)?;
    if !state.storage.cancel_workflow(id).await? {
        return Err(ApiError::conflict(format!(
            "workflow {id} had already finished; nothing was cancelled"
        )));
    }
    Ok(Json(json!({ "id": id, "cancelled": true })))
}

/// `POST /api/workflows/{id}/retry`: `{ "id", "reset_jobs" }`.
#[utoipa::path(post, path = "/workflows/{id}/retry", request_body(content = Option<Object>, description = "empty or `{}`: actions take no fields (the request must still say Content-Type: application/json)"), tag = "workflows", params(("id" = String, Path, format = Uuid, description = "the workflow's id (a UUID)")),
    responses((status = 200, description = "its failed, skipped and cancelled jobs pending again", body = Object)))]
pub(crate) async fn retry(
    _: Action,
    State(state): State<AppState>,
    Path(id): Path<String>,
    _body: NoFields,
) -> ApiResult<Json<Value>> {
    let id = workflow_id(&id)?;
    let reset = state.storage.retry_workflow(id).await?;
    Ok(Json(json!({ "id": id, "reset_jobs": reset })))
}
