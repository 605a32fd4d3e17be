//! Jobs: list with filters and a cursor, show, create, cancel, retry.

use std::time::Duration;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use hammerwork::{DatabaseQueue, DependencyStatus, Job, JobPriority, JobStatus, ListJobsParams};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::openapi::Object;
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult};
use crate::guard::Action;
use crate::{job_id, workflow_id, AppState, NoFields};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// Only jobs of this queue.
    queue: Option<String>,
    /// Only jobs in this status: pending, running, completed, retrying, dead,
    /// cancelled, skipped.
    #[param(pattern = "^(pending|running|completed|retrying|dead|cancelled|skipped)$")]
    status: Option<String>,
    /// Only jobs whose dependencies stand so: none, waiting, satisfied,
    /// failed.
    #[param(pattern = "^(none|waiting|satisfied|failed)$")]
    dependency_status: Option<String>,
    /// Only jobs of this workflow (its id).
    #[param(format = Uuid)]
    workflow: Option<String>,
    /// Only jobs after this id (the previous page's `next_after`).
    #[param(format = Uuid)]
    after: Option<String>,
    /// At most this many (50 by default; cut to the server's page size).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4294967295_i64)]
    limit: Option<u32>,
}

/// A page of jobs.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the JSON the handler builds
pub(crate) struct JobPage {
    /// The jobs, in id order.
    jobs: Vec<Object>,
    /// Pass as `after` for the next page; null on the last.
    next_after: Option<String>,
}

/// The id of what was created.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the JSON the handler builds
pub(crate) struct Created {
    /// Its id.
    id: String,
}

fn parse<T: std::str::FromStr>(what: &str, text: &str) -> ApiResult<T> {
    text.parse()
        .map_err(|_| ApiError::bad_request(format!("{what} {text:?} is not one we know")))
}

/// `GET /api/jobs?queue=&status=&dependency_status=&workflow=&after=&limit=`:
/// `{ "jobs": [...], "next_after": id | null }`, in id order; pass
/// `next_after` as `after` for the next page.
#[utoipa::path(get, path = "/jobs", tag = "jobs", params(ListQuery),
    responses((status = 200, description = "a page of jobs in id order", body = JobPage)))]
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

/// `GET /api/jobs/{id}`: the job, with `dependencies` (the jobs it waits on)
/// and `dependents` (the jobs that wait on it).
#[utoipa::path(get, path = "/jobs/{id}", tag = "jobs", params(("id" = String, Path, format = Uuid, description = "the job's id (a UUID)")),
    responses((status = 200, description = "the job with its dependencies and dependents", body = Object)))]
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
    let dependents = state.storage.get_dependents(id).await?;
    let mut value = json!(job);
    value["dependencies"] = json!(dependencies);
    value["dependents"] = json!(dependents);
    Ok(Json(value))
}

/// The longest `delay_ms`: ten years.
const MAX_DELAY_MS: u64 = 315_360_000_000;

/// A job to enqueue.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewJob {
    /// The queue.
    #[schema(pattern = "\\S")]
    queue: String,
    /// Its payload (`{}` when absent).
    #[serde(default)]
    payload: Option<Value>,
    /// background, low, normal (default), high or critical.
    #[serde(default)]
    #[schema(pattern = "^(background|low|normal|high|critical)$")]
    priority: Option<String>,
    /// Run no sooner than this many milliseconds from now (at most ten
    /// years).
    #[serde(default)]
    #[schema(maximum = 315_360_000_000_u64)]
    delay_ms: Option<u64>,
    /// Attempts before it is dead (at least 1; 3 by default).
    #[serde(default)]
    #[schema(minimum = 1)]
    max_attempts: Option<i32>,
}

/// `POST /api/jobs` with `{ "queue", "payload"?, "priority"?, "delay_ms"?,
/// "max_attempts"? }`: 201 `{ "id" }`.
#[utoipa::path(post, path = "/jobs", tag = "jobs", request_body = NewJob,
    responses((status = 201, description = "enqueued", body = Created)))]
pub(crate) async fn create(
    _: Action,
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
        if ms > MAX_DELAY_MS {
            return Err(invalid(format!(
                "delay_ms {ms} is over ten years ({MAX_DELAY_MS})"
            )));
        }
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
#[utoipa::path(post, path = "/jobs/{id}/cancel", request_body(content = Option<Object>, description = "empty or `{}`: actions take no fields (the request must still say Content-Type: application/json)"), tag = "jobs", params(("id" = String, Path, format = Uuid, description = "the job's id")),
    responses((status = 200, description = "cancelled, its dependents settled", body = Object)))]
pub(crate) async fn cancel(
    _: Action,
    State(state): State<AppState>,
    Path(id): Path<String>,
    _body: NoFields,
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
#[utoipa::path(post, path = "/jobs/{id}/retry", request_body(content = Option<Object>, description = "empty or `{}`: actions take no fields (the request must still say Content-Type: application/json)"), tag = "jobs", params(("id" = String, Path, format = Uuid, description = "the job's id")),
    responses((status = 200, description = "pending again with fresh attempts", body = Object)))]
pub(crate) async fn retry(
    _: Action,
    State(state): State<AppState>,
    Path(id): Path<String>,
    _body: NoFields,
) -> ApiResult<Json<Value>> {
    let id = job_id(&id)?;
    state.storage.retry_job(id).await?;
    Ok(Json(json!({ "id": id, "retried": true })))
}
