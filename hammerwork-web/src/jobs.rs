//! Jobs: list with filters and a cursor, show, create, cancel, retry.

use std::time::Duration;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use hammerwork::{DatabaseQueue, DependencyStatus, Job, JobPriority, JobStatus, ListJobsParams};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::{job_id, workflow_id, AppState};

#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    queue: Option<String>,
    status: Option<String>,
    dependency_status: Option<String>,
    workflow: Option<String>,
    after: Option<String>,
    limit: Option<u32>,
}

fn parse<T: std::str::FromStr>(what: &str, text: &str) -> ApiResult<T> {
    text.parse()
        .map_err(|_| ApiError::bad_request(format!("{what} {text:?} is not one we know")))
}

/// `GET /api/jobs?queue=&status=&dependency_status=&workflow=&after=&limit=`:
/// `{ "jobs": [...], "next_after": id | null }`, in id order; pass
/// `next_after` as `after` for the next page.
pub(crate) async fn list(
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(q) = query?;
    let limit = state.page(q.limit, 50);
    let mut params = ListJobsParams::new().limit(limit);
    if let Some(queue) = q.queue {
        params = params.queue(queue);
    }
    if let Some(status) = &q.status {
        params = params.status(parse::<JobStatus>("status", status)?);
    }
    if let Some(status) = &q.dependency_status {
        params = params.dependency_status(parse::<DependencyStatus>("dependency_status", status)?);
    }
    if let Some(workflow) = &q.workflow {
        params = params.workflow(workflow_id(workflow)?);
    }
    if let Some(after) = &q.after {
        params = params.after(job_id(after)?);
    }
    let jobs = state.storage.list_jobs(params).await?;
    let next = (jobs.len() == limit as usize)
        .then(|| jobs.last().map(|j| j.id))
        .flatten();
    Ok(Json(json!({ "jobs": jobs, "next_after": next })))
}

/// `GET /api/jobs/{id}`: the job, with `dependencies` (the jobs it waits on).
pub(crate) async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = job_id(&id)?;
    let job = state
        .storage
        .get_job(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no job {id}")))?;
    let dependencies = state.storage.get_dependencies(id).await?;
    let mut value = json!(job);
    value["dependencies"] = json!(dependencies);
    Ok(Json(value))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewJob {
    queue: String,
    #[serde(default)]
    payload: Option<Value>,
    #[serde(default)]
    priority: Option<String>,
    #[serde(default)]
    delay_ms: Option<u64>,
    #[serde(default)]
    max_attempts: Option<i32>,
}

/// `POST /api/jobs` with `{ "queue", "payload"?, "priority"?, "delay_ms"?,
/// "max_attempts"? }`: 201 `{ "id" }`.
pub(crate) async fn create(
    State(state): State<AppState>,
    body: Result<Json<NewJob>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let Json(new) = body?;
    let invalid = |m: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", m);
    let payload = new
        .payload
        .unwrap_or_else(|| Value::Object(Default::default()));
    let mut job = Job::new(&new.queue, payload);
    if let Some(priority) = &new.priority {
        let priority: JobPriority = priority.parse().map_err(|_| {
            invalid(format!(
                "priority {priority:?}: use background, low, normal, high or critical"
            ))
        })?;
        job = job.with_priority(priority);
    }
    if let Some(ms) = new.delay_ms {
        job = job.with_delay(Duration::from_millis(ms));
    }
    if let Some(max_attempts) = new.max_attempts {
        if max_attempts < 1 {
            return Err(invalid("max_attempts must be at least 1".into()));
        }
        job = job.with_max_attempts(max_attempts);
    }
    let id = state.storage.enqueue(job).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

/// `POST /api/jobs/{id}/cancel`: 200 `{ "id", "cancelled": true }`, 409
/// when it had already finished.
pub(crate) async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = job_id(&id)?;
    if !state.storage.cancel_job(id).await? {
        return Err(ApiError::conflict(format!(
            "job {id} had already finished; nothing was cancelled"
        )));
    }
    Ok(Json(json!({ "id": id, "cancelled": true })))
}

/// `POST /api/jobs/{id}/retry`: 200 `{ "id", "retried": true }`, 409 with the
/// reason when it does not apply (see `Storage::retry_job_at`).
pub(crate) async fn retry(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = job_id(&id)?;
    state.storage.retry_job(id).await?;
    Ok(Json(json!({ "id": id, "retried": true })))
}
