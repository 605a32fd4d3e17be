//! The dashboard: one page at `/` and its assets under `/ui/`, all compiled
//! into the binary (nothing is fetched from elsewhere at run time).
//!
//! The page reads only the REST API and `/api/events`, with the same
//! authentication and same-origin rules as any client: it carries no data
//! itself, so it is served without a credential and asks for a token (kept
//! for the tab only) when the API answers 401. Workflow graphs are laid out
//! in the browser by dagre (vendored, MIT; see `assets/vendor/`), so a live
//! update recolours nodes without another layout or a round trip.

use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::error::ApiError;

const INDEX: &str = include_str!("../assets/index.html");

/// The assets by name: content type and bytes.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/app.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../assets/app.css"),
    ),
    (
        "dagre.min.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/vendor/dagre.min.js"),
    ),
];

/// The page's policy: its own scripts, styles and API only.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
                   connect-src 'self'; img-src 'self' data:; base-uri 'none'; \
                   form-action 'none'; frame-ancestors 'none'";

/// The dashboard's routes, merged beside the API.
pub(crate) fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(index))
        .route("/ui/{file}", get(asset))
}

async fn index() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        INDEX,
    )
        .into_response()
}

async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, body)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CACHE_CONTROL, "no-cache"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            *body,
        )
            .into_response(),
        None => ApiError::not_found(format!("no asset {file:?}")).into_response(),
    }
}
