//! Hammerwork's web API: jobs, queues, workflows and spawn trees over HTTP,
//! on any backend, through the [`Storage`] API only.
//!
//! Mount it in your own axum server, or run the `hammerwork-web` binary:
//!
//! ```no_run
//! # async fn demo(storage: std::sync::Arc<dyn hammerwork::Storage>) -> std::io::Result<()> {
//! let app = hammerwork_web::router(storage, hammerwork_web::WebConfig::default());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, app).await
//! # }
//! ```
//!
//! Every answer is JSON (a graph or tree asked for as DOT, Mermaid or text
//! comes wrapped in JSON too, so one client reads them all); errors are
//! `{ "error": { "code", "message" } }` with 400 (malformed id or filter),
//! 404, 409 (the action does not apply), 413, 415 (a state-changing request
//! that is not `application/json`), 403 (one a browser sends from another
//! site) or 422 (an invalid job or workflow).

mod error;
mod guard;
mod jobs;
mod queues;
mod spawn;
mod workflows;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use hammerwork::{JobId, Storage, WorkflowId};
use serde_json::json;
use tower_http::timeout::TimeoutLayer;

pub use error::{ApiError, ApiResult};

/// The limits of a [`router`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WebConfig {
    /// The most items one page of a list holds (larger `limit`s are cut to
    /// it). Default 500.
    pub max_page: u32,
    /// The largest request body, in bytes (a workflow file). Default 16 MiB.
    pub body_limit: usize,
    /// How long one request may take before it is answered 408. Default 30 s.
    pub request_timeout: Duration,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            max_page: 500,
            body_limit: 16 << 20,
            request_timeout: Duration::from_secs(30),
        }
    }
}

impl WebConfig {
    /// Pages of at most `max_page` items.
    pub fn with_max_page(mut self, max_page: u32) -> Self {
        self.max_page = max_page.max(1);
        self
    }

    /// Request bodies of at most `bytes`.
    pub fn with_body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Requests answered within `timeout`.
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }
}

/// What every handler gets.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) config: Arc<WebConfig>,
}

impl AppState {
    /// `limit` (or `default`) cut to the page size.
    pub(crate) fn page(&self, limit: Option<u32>, default: u32) -> u32 {
        limit.unwrap_or(default).clamp(1, self.config.max_page)
    }
}

/// The API's routes over `storage`.
pub fn router(storage: Arc<dyn Storage>, config: WebConfig) -> Router {
    let timeout = config.request_timeout;
    let body_limit = config.body_limit;
    let state = AppState {
        storage,
        config: Arc::new(config),
    };
    let api = Router::new()
        .route("/spawn/operations", get(spawn::operations))
        .route("/spawn/stats", get(spawn::stats))
        .route("/jobs", get(jobs::list).post(jobs::create))
        .route("/jobs/{id}", get(jobs::show))
        .route("/jobs/{id}/children", get(spawn::children))
        .route("/jobs/{id}/spawn-tree", get(spawn::tree))
        .route("/jobs/{id}/cancel", post(jobs::cancel))
        .route("/jobs/{id}/retry", post(jobs::retry))
        .route("/queues", get(queues::list))
        .route("/queues/{queue}/pause", post(queues::pause))
        .route("/queues/{queue}/resume", post(queues::resume))
        .route("/workflows", get(workflows::list).post(workflows::create))
        .route("/workflows/{id}", get(workflows::show))
        .route("/workflows/{id}/stats", get(workflows::stats))
        .route("/workflows/{id}/graph", get(workflows::graph))
        .route("/workflows/{id}/cancel", post(workflows::cancel))
        .route("/workflows/{id}/retry", post(workflows::retry))
        .fallback(not_found)
        .layer(axum::middleware::from_fn(guard::state_changes));
    Router::new()
        .route("/health", get(health))
        .nest("/api", api)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .with_state(state)
}

/// `GET /health`: 200 when the database answers, 503 when it does not. No
/// authentication.
async fn health(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    match state.storage.database_time().await {
        Ok(_) => (StatusCode::OK, Json(json!({ "status": "ok" }))),
        Err(err) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unavailable", "error": err.to_string() })),
        ),
    }
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint")
}

/// A job id from a path or query, or 400.
pub(crate) fn job_id(text: &str) -> ApiResult<JobId> {
    text.parse()
        .map_err(|_| ApiError::bad_request(format!("{text:?} is not a job id (a UUID)")))
}

/// A workflow id from a path or query, or 400.
pub(crate) fn workflow_id(text: &str) -> ApiResult<WorkflowId> {
    text.parse()
        .map_err(|_| ApiError::bad_request(format!("{text:?} is not a workflow id (a UUID)")))
}
