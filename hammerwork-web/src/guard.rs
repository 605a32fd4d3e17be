//! Requests that change something must be JSON and must not come from a
//! browser on another site: a page elsewhere cannot make an operator's
//! browser cancel a workflow (an HTML form cannot send `application/json`,
//! and browsers say where a request comes from). Pages of the origins
//! configured for CORS are the exception.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// Lets reads through; checks every other method.
pub(crate) async fn state_changes(
    State(allowed): State<Arc<Vec<HeaderValue>>>,
    request: Request,
    next: Next,
) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let headers = request.headers();
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "a request that changes something must be Content-Type: application/json",
        )
        .into_response();
    }
    let origin = headers.get(header::ORIGIN);
    if origin.is_some_and(|origin| allowed.contains(origin)) {
        return next.run(request).await;
    }
    // Browsers send Sec-Fetch-Site; older ones at least Origin.
    let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    let cross_site = match site {
        Some(site) => !matches!(site, "same-origin" | "none"),
        None => match (
            origin.and_then(|v| v.to_str().ok()),
            headers.get(header::HOST).and_then(|v| v.to_str().ok()),
        ) {
            (Some(origin), Some(host)) => {
                origin.split_once("://").map(|(_, rest)| rest) != Some(host)
            }
            (Some(_), None) => true,
            (None, _) => false,
        },
    };
    if cross_site {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "cross_site",
            "a request that changes something must come from this site",
        )
        .into_response();
    }
    next.run(request).await
}
