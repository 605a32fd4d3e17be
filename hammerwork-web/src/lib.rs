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
//! site that is not one of [`WebConfig::with_cors_origins`]) or 422 (an
//! invalid job or workflow).
//!
//! With [`WebConfig::with_auth`], every `/api` request needs a bearer token
//! (or a basic-auth user) whose argon2 hash is configured: 401 without one,
//! 403 when a read-only credential asks for an action. `/health` stays open.
//!
//! `GET /api/events` streams what changes (Server-Sent Events, from one
//! shared poll; see [`WebConfig::events_interval`]), and `GET /metrics`
//! serves Prometheus text once [`WebConfig::with_metrics`] is given a
//! handle.

mod auth;
mod dashboard;
mod error;
mod events;
mod guard;
mod jobs;
mod openapi;
mod overview;
mod queues;
mod spawn;
mod workflows;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use hammerwork::metrics::PrometheusHandle;
use hammerwork::{JobId, Storage, WorkflowId};
use serde_json::json;
use tower_http::cors::{AllowOrigin, CorsLayer};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::openapi::ApiDoc;
use tower_http::timeout::TimeoutLayer;

pub use auth::{hash_secret, AuthConfig, Role, TokenEntry, UserEntry};
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
    /// `GET /api/events` streams are not cut by it.
    pub request_timeout: Duration,
    /// How often the events poll reads the database while a client listens
    /// to `GET /api/events`. Default 2 s.
    pub events_interval: Duration,
    /// How old the queue counts of `GET /api/queues` (and of the events'
    /// `queues`) may be before they are read again. Default 1 s. Counting
    /// reads every job of a queue, so whatever this says, a read is at most
    /// one per twenty times the last read's duration, shared by all callers;
    /// a change made through the API is seen by the next request.
    pub queues_max_age: Duration,
    /// Who may call `/api` (empty: anyone who reaches the server). Set it with
    /// [`WebConfig::with_auth`], which checks the hashes.
    auth: AuthConfig,
    /// Browser origins (`https://ops.example.com`) allowed to call the API
    /// from their pages (CORS), state-changing requests included.
    cors_origins: Vec<HeaderValue>,
    /// What `GET /metrics` renders (none: 404).
    metrics: Option<PrometheusHandle>,
}

/// A configuration that cannot serve: a malformed hash or origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            max_page: 500,
            body_limit: 16 << 20,
            request_timeout: Duration::from_secs(30),
            events_interval: Duration::from_secs(2),
            queues_max_age: Duration::from_secs(1),
            auth: AuthConfig::default(),
            cors_origins: Vec::new(),
            metrics: None,
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

    /// The events poll every `interval` (at least 100 ms).
    pub fn with_events_interval(mut self, interval: Duration) -> Self {
        self.events_interval = interval.max(Duration::from_millis(100));
        self
    }

    /// Queue counts read again once older than `max_age` (see
    /// [`queues_max_age`](Self::queues_max_age)); zero reads them for every
    /// request, bar the floor of twenty times a read's duration.
    pub fn with_queues_max_age(mut self, max_age: Duration) -> Self {
        self.queues_max_age = max_age;
        self
    }

    /// Only these credentials may call `/api`: a request without one is
    /// answered 401, a read-only one asking for an action 403. Fails on a
    /// hash that is not an argon2 PHC string (see [`hash_secret`]).
    pub fn with_auth(mut self, auth: AuthConfig) -> Result<Self, ConfigError> {
        auth.check().map_err(ConfigError)?;
        self.auth = auth;
        Ok(self)
    }

    /// Pages served from these origins (`scheme://host[:port]`) may call the
    /// API from a browser, actions included (CORS); every other site is
    /// refused.
    pub fn with_cors_origins<I, S>(mut self, origins: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for origin in origins {
            let origin = origin.as_ref().trim_end_matches('/');
            let well_formed = origin.split_once("://").is_some_and(|(scheme, host)| {
                matches!(scheme, "http" | "https") && !host.is_empty() && !host.contains('/')
            });
            let value = HeaderValue::from_str(origin)
                .ok()
                .filter(|_| well_formed)
                .ok_or_else(|| {
                    ConfigError(format!(
                        "{origin:?} is not an origin: expected scheme://host[:port]"
                    ))
                })?;
            self.cors_origins.push(value);
        }
        Ok(self)
    }

    /// Serves `GET /metrics` in Prometheus' text format from `handle`
    /// (`hammerwork::metrics::prometheus()?`, or your own recorder's), with
    /// the queue gauges read from the database at each scrape. It needs the
    /// same credentials as `/api` (read-only suffices).
    pub fn with_metrics(mut self, handle: PrometheusHandle) -> Self {
        self.metrics = Some(handle);
        self
    }

    /// Whether `/api` asks for credentials.
    pub fn requires_auth(&self) -> bool {
        !self.auth.is_empty()
    }
}

/// What every handler gets.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) config: Arc<WebConfig>,
    pub(crate) events: Arc<events::EventHub>,
    pub(crate) overview: Arc<overview::Overview>,
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
    let cors_origins = config.cors_origins.clone();
    let authenticator =
        (!config.auth.is_empty()).then(|| Arc::new(auth::Authenticator::new(config.auth.clone())));
    let state = AppState {
        storage,
        overview: Arc::new(overview::Overview::new(config.queues_max_age)),
        config: Arc::new(config),
        events: Arc::new(events::EventHub::new()),
    };
    let (api, doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(spawn::operations))
        .routes(routes!(spawn::stats))
        .routes(routes!(jobs::list, jobs::create))
        .routes(routes!(jobs::show))
        .routes(routes!(spawn::children))
        .routes(routes!(spawn::tree))
        .routes(routes!(jobs::cancel))
        .routes(routes!(jobs::retry))
        .routes(routes!(events::stream))
        .routes(routes!(queues::list))
        .routes(routes!(queues::throughput))
        .routes(routes!(queues::pause))
        .routes(routes!(queues::resume))
        .routes(routes!(workflows::list, workflows::create))
        .routes(routes!(workflows::show))
        .routes(routes!(workflows::stats))
        .routes(routes!(workflows::graph))
        .routes(routes!(workflows::cancel))
        .routes(routes!(workflows::retry))
        .split_for_parts();
    let doc = Arc::new(openapi::finish(doc));
    let api = api
        .route(
            "/openapi.json",
            get(move || {
                let doc = doc.clone();
                async move { Json(doc) }
            }),
        )
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.overview.clone(),
            overview::forget_after_change,
        ));
    let mut protected = Router::new()
        .nest("/api", api)
        .route("/metrics", get(metrics));
    if let Some(authenticator) = authenticator {
        protected = protected.layer(axum::middleware::from_fn_with_state(
            authenticator,
            auth::require,
        ));
    }
    let mut app = Router::new()
        .route("/health", get(health))
        .merge(dashboard::routes())
        .merge(protected)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ));
    if !cors_origins.is_empty() {
        app = app.layer(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(cors_origins.iter().cloned()))
                .allow_methods([Method::GET, Method::POST])
                .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
                .max_age(Duration::from_secs(600)),
        );
    }
    app.with_state(state)
}

/// `GET /health`: 200 when the database answers, 503 when it does not. No
/// authentication.
#[utoipa::path(get, path = "/health", tag = "operations",
    responses((status = 200, description = "the database answers", body = Object),
              (status = 503, description = "the database does not answer", body = Object)))]
async fn health(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    match state.storage.database_time().await {
        Ok(_) => (StatusCode::OK, Json(json!({ "status": "ok" }))),
        Err(err) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unavailable", "error": err.to_string() })),
        ),
    }
}

/// `GET /metrics`: the Prometheus text of [`WebConfig::with_metrics`]'s
/// handle, queue gauges refreshed first.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String)))]
async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let Some(handle) = &state.config.metrics else {
        return Err(ApiError::not_found(
            "metrics are not enabled (WebConfig::with_metrics)",
        ));
    };
    hammerwork::metrics::record_queue_depths(state.storage.as_ref()).await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response())
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint")
}

/// The body of an action (cancel, retry, pause, resume): empty or a JSON
/// object, whose fields are ignored; anything else is 400.
pub(crate) struct NoFields;

impl<S: Send + Sync> axum::extract::FromRequest<S> for NoFields {
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        let body = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(|err| ApiError::new(err.status(), "bad_request", err.body_text()))?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(NoFields);
        }
        serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&body)
            .map(|_| NoFields)
            .map_err(|_| ApiError::bad_request("an action's body must be empty or a JSON object"))
    }
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
